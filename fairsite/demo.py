"""The reference fair of DOMAIN.md: 120 employers, 5,271 posts, average pay 4,000 yuan a
month, accounts to log in with and a live session; optionally a simulated day of 1,200
attendees signing intents. Deterministic, and safe to run twice."""
from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from sqlalchemy import func, select, update

from fairsite.accounts.models import EMPLOYER, ORGANISER, User
from fairsite.booths.models import Booth, BoothVacancy
from fairsite.campaigns.models import Campaign
from fairsite.checkins.service import add_walk_in, check_in
from fairsite.clock import CST, utcnow
from fairsite.employers.credit_code import CHARSET, make_credit_code
from fairsite.employers.models import APPROVED, Employer
from fairsite.extensions import db
from fairsite.fairs.models import Fair
from fairsite.followups.models import FollowUp
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
# The other staff roles, one login each (the two above are admins): what the role, the kind
# of login, its login and password, its name.
ROLE_LOGINS = [
    ("主办方·服务台", ORGANISER, "desk", "desk@demo.fairsite.cn", "demo-desk", "服务台 小王"),
    ("主办方·查看", ORGANISER, "viewer", "viewer@demo.fairsite.cn", "demo-viewer", "局领导 张科长"),
    ("企业·展位人员", EMPLOYER, "booth", "booth@demo.fairsite.cn", "demo-booth", "展位 小陈"),
]

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
    logins = [("主办方·管理员", ORGANISER_LOGIN, ORGANISER_PASSWORD),
              ("企业·管理员", EMPLOYER_LOGIN, EMPLOYER_PASSWORD)]
    logins += [(label, login, password) for label, _k, _r, login, password, _n in ROLE_LOGINS]
    if _already_built():
        _add_role_logins()  # a demo built before the staff roles gets them too
        db.session.commit()
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
    _add_campaign(fair, session, employers, picked, organiser, today)
    _add_followups(organiser)
    _add_role_logins()
    db.session.commit()
    return logins


def _add_role_logins() -> None:
    """The desk, viewer and booth-staff logins (ROLE_LOGINS) that are missing; the booth staff
    work for the demo employer admin's firm."""
    employer_id = db.session.scalar(select(User.employer_id).where(User.login == EMPLOYER_LOGIN))
    for _label, kind, staff_role, login, password, name in ROLE_LOGINS:
        if db.session.scalar(select(User.id).where(User.login == login)) is not None:
            continue
        user = User(login=login, name=name, role=kind, staff_role=staff_role,
                    employer_id=employer_id if kind == EMPLOYER else None)
        user.set_password(password)
        db.session.add(user)


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
        _simulate_entrance(fair, rng, start)
    return ATTENDEES


# --- the campaign around the fair: a second fair, a live session of its own, the gate --------

CAMPAIGN_NAME = "2026 春风行动"
EARLIER_FAIR_TITLE = "2026 年春风行动 · 高新区人才夜市"
CAMPAIGN_LIVE_TITLE = "春风行动 · 直播带岗 走进车间"


def _add_campaign(fair: Fair, session: LiveSession, employers: list[Employer], picked: list[Vacancy],
                  organiser: User, today) -> None:
    """The campaign of the reference fair: the fair, an evening fair a week earlier (closed,
    with 30 of the employers, its gate counted and intents signed and followed up) and a live
    session tied to no fair (ended, with its own intents), so the campaign return is full."""
    campaign = Campaign(name=CAMPAIGN_NAME, year=today.year, starts_on=today - timedelta(days=30),
                        ends_on=today + timedelta(days=30),
                        description="把老乡留在老家：返乡人员专场、人才夜市和直播带岗。")
    db.session.add(campaign)
    db.session.flush()
    fair.campaign_id = campaign.id
    session.campaign_id = campaign.id
    earlier = Fair(title=EARLIER_FAIR_TITLE, kind="night", campaign="春风行动", campaign_id=campaign.id,
                   venue="高新区创业广场", date=today - timedelta(days=7), opens_at=time(18, 0),
                   closes_at=time(21, 0), status="closed",
                   description="下班后逛夜市，找家门口的好工作。")
    db.session.add(earlier)
    db.session.flush()
    booths = []
    for i, employer in enumerate(employers[:30]):
        booth = Booth(fair=earlier, employer=employer, status="approved", number=f"N-{i + 1:02d}",
                      decided_at=utcnow())
        db.session.add(booth)
        db.session.flush()
        for pos, v in enumerate(employer.vacancies):
            db.session.add(BoothVacancy(booth_id=booth.id, vacancy_id=v.id, position=pos))
        booths.append(booth)
    shown = picked[4:8] or [employers[0].vacancies[0]]
    alone = LiveSession(title=CAMPAIGN_LIVE_TITLE, host_name="区就业服务中心 小李",
                        campaign_id=campaign.id, created_by_id=organiser.id,
                        scheduled_at=datetime.combine(today - timedelta(days=3), time(20, 0)) - CST,
                        stream_url="", status="ended", description="主播带您走进车间，看看工作环境。")
    db.session.add(alone)
    db.session.flush()
    for pos, v in enumerate(shown):
        db.session.add(LiveItem(session_id=alone.id, vacancy_id=v.id, position=pos))
    db.session.flush()

    rng = random.Random(7)
    start = datetime.combine(earlier.date, time(18, 0)) - CST
    statuses = ["new"] * 3 + ["contacted"] * 2 + ["interviewed", "signed", "hired", "onboard", "onboard",
                                                   "unsuitable", "no_show"]
    placed = [(b, v) for b in booths for v in b.vacancies]
    for i in range(160):
        when = start + timedelta(minutes=rng.randint(0, 170))
        attendee, _ = find_or_create_attendee(
            rng.choice(SURNAMES) + rng.choice(GIVEN), f"15{rng.randint(0, 9)}{90_000_000 + i}",
            list(rng.choice([("returnee",), ("graduate",), ("poverty",), ("difficulty",), ()])),
            "demo", now=when)
        check_in(earlier.id, attendee.id, "self", now=when)
        if i % 4 == 3:
            continue  # came, looked, signed nothing
        booth, vacancy = rng.choice(placed)
        signed = record_intent(attendee, vacancy, rng.choice(["booth"] * 4 + ["desk"]), fair_id=earlier.id,
                               booth_id=booth.id, now=when)
        db.session.execute(update(Intent).where(Intent.id == signed.intent_id)
                           .values(status=rng.choice(statuses)))
    for _ in range(25):
        add_walk_in(earlier.id, organiser.id)
    for i in range(40):
        when = alone.scheduled_at + timedelta(minutes=rng.randint(0, 60))
        attendee, _ = find_or_create_attendee(rng.choice(SURNAMES) + rng.choice(GIVEN), f"16{rng.randint(0, 9)}{90_000_000 + i}",
                                              list(rng.choice([("returnee",), ("poverty",), ()])), "demo", now=when)
        signed = record_intent(attendee, rng.choice(shown), "live", live_session_id=alone.id, now=when)
        db.session.execute(update(Intent).where(Intent.id == signed.intent_id)
                           .values(status=rng.choice(statuses)))


def _simulate_entrance(fair: Fair, rng: random.Random, start: datetime) -> None:
    """The reference fair's gate: most who signed also scanned in, 300 more came and signed
    nothing, and the desk counted 120 people without a phone."""
    signed = db.session.scalars(select(Intent.attendee_id).where(Intent.fair_id == fair.id).distinct()).all()
    for attendee_id in signed:
        if rng.random() < 0.7:
            check_in(fair.id, attendee_id, "self", now=start + timedelta(minutes=rng.randint(0, 300)))
    for i in range(300):
        when = start + timedelta(minutes=int(rng.triangular(0, 480, 60)))
        attendee, _ = find_or_create_attendee(rng.choice(SURNAMES) + rng.choice(GIVEN), f"17{rng.randint(0, 9)}{90_000_000 + i}",
                                              list(rng.choice([("returnee",), ("graduate",), ()])), "demo", now=when)
        check_in(fair.id, attendee.id, "self", now=when)
    organiser_id = db.session.scalar(select(User.id).where(User.login == ORGANISER_LOGIN))
    for _ in range(120):
        add_walk_in(fair.id, organiser_id)


# --- follow-up to hire: when employers called, and the bureau's own call-backs ---------------

DEMO_OUTCOMES = ("已电话联系，本人下周一去面试", "电话未接通，明天再打", "本人已在外地打工，暂不找工作",
                 "已提醒企业尽快联系", "本人想找离家近的轻活，已推荐社区岗位")


def _add_followups(organiser: User) -> None:
    """The employers' calls happened some hours after each signing (contacted_at), and the
    bureau called back a few people in key groups, so the person files, the call list and
    the ranking of employers who have not called all show something."""
    rng = random.Random(48)
    called = db.session.execute(
        select(Intent.id, Intent.created_at).where(Intent.status != "new", Intent.contacted_at.is_(None))
    ).all()
    if called:
        db.session.execute(update(Intent), [
            {"id": i, "contacted_at": at + timedelta(hours=rng.randint(2, 60))} for i, at in called
        ])
    waiting = db.session.scalars(
        select(Intent.attendee_id).where(Intent.status.in_(("new", "unsuitable", "no_show")))
        .distinct().order_by(Intent.attendee_id).limit(12)
    ).all()
    for n, attendee_id in enumerate(waiting[::3]):
        db.session.add(FollowUp(attendee_id=attendee_id, user_id=organiser.id,
                                outcome=DEMO_OUTCOMES[n % len(DEMO_OUTCOMES)], created_at=utcnow()))
