"""The reference fair of DOMAIN.md: 120 employers, 5,271 posts, average pay 4,000 yuan a
month, accounts to log in with and a live session; optionally a simulated day of 1,200
attendees signing intents. Deterministic, and safe to run twice."""
from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from fairsite.accounts.models import EMPLOYER, ORGANISER, User
from fairsite.booths.models import Booth, BoothVacancy
from fairsite.clock import CST, utcnow
from fairsite.employers.credit_code import CHARSET, make_credit_code
from fairsite.employers.models import APPROVED, Employer
from fairsite.extensions import db
from fairsite.fairs.models import Fair
from fairsite.intents.models import Intent
from fairsite.intents.service import find_or_create_attendee, record_intent
from fairsite.live.models import LiveItem, LiveSession
from fairsite.sql import write_transaction
from fairsite.vacancies.models import Vacancy

EMPLOYERS = 120
POSTS = 5271
AVERAGE_PAY = 4000
ATTENDEES = 1200
FAIR_TITLE = "2026 年春风行动 · 把老乡留在老家 返乡人员专场招聘会"
ORGANISER_LOGIN, ORGANISER_PASSWORD = "organiser@demo.fairsite.cn", "demo-organiser"
EMPLOYER_LOGIN, EMPLOYER_PASSWORD = "hr@demo.fairsite.cn", "demo-employer"

PLACES = ["嘉禾", "瑞丰", "鑫源", "恒泰", "宏达", "华兴", "金桥", "川南", "永盛", "汇通", "天成", "众合",
          "明德", "安达", "锦程", "东升", "惠民", "新希", "博远", "兴业", "巴蜀", "龙腾", "润泽", "恒昌"]
# industry, name suffix, vacancy templates (title, category, pay_min, pay_max, shifts, meals, insurance)
INDUSTRIES = [
    ("电子制造", "电子科技有限公司", [
        ("SMT 操作工", "production", 3800, 5200, "两班倒", True, True),
        ("电子装配工", "production", 3500, 4800, "长白班", True, True),
        ("品质检验员", "quality", 3600, 4600, "长白班", True, True),
        ("设备维修技术员", "technician", 5000, 7000, "两班倒", True, True)]),
    ("机械制造", "机械制造有限公司", [
        ("数控车床操作工", "production", 4500, 6500, "两班倒", True, True),
        ("焊工", "technician", 5000, 7500, "长白班", True, True),
        ("仓库管理员", "quality", 3300, 4200, "长白班", False, True)]),
    ("纺织服装", "服饰有限公司", [
        ("缝纫工", "production", 3500, 6000, "长白班", True, False),
        ("整烫包装工", "production", 3000, 4000, "长白班", True, False),
        ("质检员", "quality", 3200, 4200, "长白班", True, True)]),
    ("食品加工", "食品有限公司", [
        ("食品包装工", "production", 3000, 3800, "两班倒", True, True),
        ("冷库搬运工", "driver", 3800, 4800, "两班倒", True, True),
        ("生产线班组长", "production", 4500, 5500, "长白班", True, True)]),
    ("物流运输", "物流有限公司", [
        ("快递分拣员", "driver", 3500, 5000, "夜班", False, True),
        ("货车司机（B2/A2）", "driver", 6000, 9000, "", True, True),
        ("叉车工", "driver", 4000, 5200, "两班倒", True, True)]),
    ("餐饮住宿", "餐饮管理有限公司", [
        ("厨师", "service", 4000, 6000, "", True, False),
        ("服务员", "service", 2800, 3600, "", True, False),
        ("洗碗保洁", "service", 2400, 3000, "", True, False)]),
    ("家政服务", "家政服务有限公司", [
        ("育婴员", "care", 4500, 7000, "", True, False),
        ("养老护理员", "care", 3500, 5000, "", True, True),
        ("保洁员", "care", 2400, 3000, "长白班", False, False)]),
    ("建筑建材", "建设工程有限公司", [
        ("钢筋工", "construction", 5500, 8000, "", True, False),
        ("装修木工", "construction", 5000, 7500, "", False, False),
        ("施工员", "construction", 4500, 6500, "", True, True)]),
    ("批发零售", "商贸有限公司", [
        ("超市理货员", "sales", 2600, 3400, "早晚班", False, True),
        ("收银员", "sales", 2600, 3300, "早晚班", False, True),
        ("门店店长", "sales", 4500, 6500, "", False, True)]),
    ("农业养殖", "农业开发有限公司", [
        ("果园管护工", "agriculture", 2500, 3300, "长白班", True, False),
        ("养殖技术员", "agriculture", 3500, 5000, "", True, True)]),
    ("信息技术", "信息技术有限公司", [
        ("电商客服", "sales", 3000, 4500, "早晚班", False, True),
        ("网络运维", "tech", 4500, 6500, "", False, True)]),
    ("汽车配件", "汽车零部件有限公司", [
        ("冲压操作工", "production", 4000, 5500, "两班倒", True, True),
        ("喷涂工", "production", 4200, 5800, "两班倒", True, True),
        ("物料员", "quality", 3300, 4200, "长白班", True, True)]),
]
LOCATIONS = ["高新区", "工业园区", "城南片区", "经开区", "县城", "镇上"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国红梅玉兰志强海燕春生德明"


def _already_built() -> bool:
    return db.session.scalar(select(func.count()).select_from(Fair).where(Fair.title == FAIR_TITLE)) > 0


def _headcounts(rng: random.Random, n: int) -> list[int]:
    counts = [rng.choice([2, 3, 5, 5, 8, 10, 10, 12, 15, 20, 20, 25, 30]) for _ in range(n)]
    # Nudge to the exact total, keeping every headcount at least 1.
    while (diff := POSTS - sum(counts)) != 0:
        i = rng.randrange(n)
        step = max(-(counts[i] - 1), min(diff, 5)) if diff < 0 else min(diff, 5)
        counts[i] += step
    return counts


def _tune_pay(rng: random.Random, vacancies: list[Vacancy]) -> None:
    """Shift pay ranges by 50 yuan steps until the headcount-weighted average rounds to 4,000."""

    def average() -> float:
        return sum(v.headcount * v.pay_mid for v in vacancies) / POSTS

    while round(average()) != AVERAGE_PAY:
        gap = AVERAGE_PAY - average()
        # Large steps on big vacancies far from the target, single small ones close to it.
        candidates = [v for v in vacancies if abs(v.headcount * 50 / POSTS) <= abs(gap) + 0.5]
        v = rng.choice(candidates or vacancies)
        step = 50 if gap > 0 else -50
        if v.pay_min + step < 2000:
            continue
        v.pay_min += step
        v.pay_max += step


def build_demo() -> list[tuple[str, str, str]]:
    logins = [("主办方", ORGANISER_LOGIN, ORGANISER_PASSWORD), ("企业", EMPLOYER_LOGIN, EMPLOYER_PASSWORD)]
    if _already_built():
        return logins
    rng = random.Random(2026)
    today = (utcnow() + CST).date()
    fair = Fair(
        title=FAIR_TITLE, kind="park", campaign="春风行动", venue="区人民公园南门广场",
        date=today, opens_at=time(8, 30), closes_at=time(16, 30), status="open",
        description="120 家本地企业现场招聘，欢迎返乡务工人员、高校毕业生和就业困难人员到场。"
                    "扫描展位二维码即可登记求职意向，企业将电话联系您。",
    )
    db.session.add(fair)
    organiser = User(login=ORGANISER_LOGIN, name="区就业服务中心", role=ORGANISER)
    organiser.set_password(ORGANISER_PASSWORD)
    db.session.add(organiser)

    employers: list[Employer] = []
    names: set[str] = set()
    for i in range(EMPLOYERS):
        industry, suffix, _templates = INDUSTRIES[i % len(INDUSTRIES)]
        while (name := f"{rng.choice(PLACES)}{rng.choice(PLACES)}{suffix}") in names:
            pass
        names.add(name)
        body = "91511100" + "".join(rng.choice(CHARSET) for _ in range(9))
        employers.append(Employer(
            name=name, credit_code=make_credit_code(body), industry=industry,
            contact_name=rng.choice(SURNAMES) + rng.choice(["经理", "主管", "女士", "先生"]),
            contact_phone=f"13{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}",
            description=f"本地{industry}企业，长期招聘，欢迎家乡人回家就业。",
            status=APPROVED, approved_at=utcnow(),  # the bureau invited them: approved
        ))
    db.session.add_all(employers)

    vacancies: list[Vacancy] = []
    for i, employer in enumerate(employers):
        templates = INDUSTRIES[i % len(INDUSTRIES)][2]
        for title, category, lo, hi, shifts, meals, insurance in rng.sample(templates, k=min(len(templates), rng.choice([2, 3, 3, 4]))):
            vacancies.append(Vacancy(
                employer=employer, title=title, category=category, pay_min=lo, pay_max=hi,
                location=rng.choice(LOCATIONS), shifts=shifts, meals_lodging=meals,
                social_insurance=insurance, age_min=18, age_max=rng.choice([45, 50, 55, 60]),
                education=rng.choice(["", "", "junior", "senior"]),
                description="有无经验均可，岗前带薪培训。",
            ))
    for v, count in zip(vacancies, _headcounts(rng, len(vacancies)), strict=True):
        v.headcount = count
    _tune_pay(rng, vacancies)
    db.session.add_all(vacancies)

    staff = User(login=EMPLOYER_LOGIN, name="人事专员", role=EMPLOYER, employer=employers[0])
    staff.set_password(EMPLOYER_PASSWORD)
    db.session.add(staff)
    db.session.flush()

    zones = "ABCDEF"
    for i, employer in enumerate(employers):
        booth = Booth(fair=fair, employer=employer, status="approved", number=f"{zones[i // 20]}-{i % 20 + 1:02d}",
                      decided_at=utcnow())
        db.session.add(booth)
        db.session.flush()
        for pos, v in enumerate(employer.vacancies):
            db.session.add(BoothVacancy(booth_id=booth.id, vacancy_id=v.id, position=pos))

    session = LiveSession(
        title="直播带岗 · 高新区电子厂专场", host_name="区就业服务中心 小李",
        fair_id=fair.id, created_by_id=organiser.id,
        scheduled_at=datetime.combine(today, time(10, 0)) - CST,
        stream_url="", status="scheduled",
        description="主播带您走进车间，边看边报名。",
    )
    db.session.add(session)
    db.session.flush()
    picked = [v for v in vacancies if v.category in ("production", "technician", "quality")][:10]
    for pos, v in enumerate(picked):
        db.session.add(LiveItem(session_id=session.id, vacancy_id=v.id, position=pos))
    db.session.commit()
    return logins


def simulate_day() -> int:
    """1,200 attendees sign intents across the fair's hours. Returns how many signed."""
    fair = db.session.scalar(select(Fair).where(Fair.title == FAIR_TITLE))
    if fair is None:
        return 0
    if db.session.scalar(select(func.count()).select_from(Intent).where(Intent.fair_id == fair.id)):
        return 0
    rng = random.Random(1200)
    booths = db.session.scalars(select(Booth).where(Booth.fair_id == fair.id, Booth.status == "approved")).all()
    placed = [(b, v) for b in booths for v in b.vacancies]
    live = db.session.scalar(select(LiveSession).where(LiveSession.fair_id == fair.id))
    live_vacancy_ids = {item.vacancy_id for item in live.items} if live else set()
    start = datetime.combine(fair.date, fair.opens_at or time(8, 30)) - CST
    groups_mix = [("returnee",), ("returnee",), ("returnee",), ("returnee", "poverty"), ("graduate",),
                  ("graduate",), ("poverty",), ("difficulty",), ("veteran",), (), (), ()]
    sources = ["booth"] * 15 + ["fair"] * 2 + ["live"] * 2 + ["desk"] * 1
    with write_transaction():
        for i in range(ATTENDEES):
            # Most people come in the morning: a triangular spread peaking around 10:00.
            minute = int(rng.triangular(0, 480, 90))
            when = start + timedelta(minutes=minute, seconds=rng.randint(0, 59))
            phone = f"1{rng.choice('3456789')}{rng.randint(0, 9)}{i:08d}"
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", rng.choice(GIVEN)])
            attendee, _ = find_or_create_attendee(name, phone, list(rng.choice(groups_mix)), "demo",
                                                  "self", now=when)
            for booth, vacancy in rng.sample(placed, k=rng.choice([1, 1, 1, 2, 2, 3])):
                source = rng.choice(sources)
                live_id = live.id if source == "live" and live and vacancy.id in live_vacancy_ids else None
                if source == "live" and live_id is None:
                    source = "booth"
                record_intent(attendee, vacancy, source, fair_id=fair.id,
                              booth_id=booth.id if source == "booth" else None,
                              live_session_id=live_id, now=when)
                when += timedelta(minutes=rng.randint(1, 20))
    return ATTENDEES
