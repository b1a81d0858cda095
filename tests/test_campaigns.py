"""Campaigns: the list and form, fairs and live sessions joined to one, and the campaign
return (page and xlsx) that rolls every fair, live session and desk registration up."""
from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from fairsite.campaigns.models import Campaign
from fairsite.extensions import db
from fairsite.intents.models import Intent
from fairsite.intents.service import find_or_create_attendee, record_intent
from fairsite.live.models import LiveItem, LiveSession
from fairsite.sql import write_transaction


@pytest.fixture
def campaign(app):
    c = Campaign(name="2026 春风行动", year=2026, description="")
    db.session.add(c)
    db.session.commit()
    return c


def _season(campaign, make_fair, make_booth, make_employer, make_vacancy, make_intent):
    """Two fairs and a live session tied to no fair, all in the campaign; and a fair outside it."""
    f1 = make_fair(title="春风行动·人民公园专场", campaign_id=campaign.id)
    f2 = make_fair(title="春风行动·高新区夜市", campaign_id=campaign.id)
    outside = make_fair(title="别的招聘会")
    e1, e2 = make_employer(name="川南电子有限公司"), make_employer(name="宜宾纺织有限公司")
    v1 = make_vacancy(e1, title="装配工", headcount=30, pay_min=4000, pay_max=5000)
    v2 = make_vacancy(e2, title="挡车工", headcount=10, pay_min=5000, pay_max=6000)
    b1 = make_booth(fair=f1, employer=e1, vacancies=[v1])
    b2 = make_booth(fair=f2, employer=e1, vacancies=[v1])
    make_booth(fair=f2, employer=e2, vacancies=[v2])
    make_booth(fair=outside, employer=e2, vacancies=[v2])
    live = LiveSession(title="春风行动直播带岗", status="live", campaign_id=campaign.id)
    db.session.add(live)
    db.session.flush()
    db.session.add(LiveItem(session_id=live.id, vacancy_id=v2.id, position=0))
    db.session.commit()
    a = make_intent(b1, phone="13700000001", name="王伟", groups=["poverty"])  # at fair 1
    make_intent(b2, phone="13700000001", name="王伟", groups=["poverty"], vacancy=v1)  # same vacancy: one intent
    make_intent(b1, phone="13700000002", name="李娜", groups=["graduate"], source="desk")
    make_intent(None, v2, phone="13700000003", name="赵强", source="live", live_session_id=live.id)
    make_intent(None, v2, phone="13700000004", name="不算", source="booth")  # no fair, no session
    with write_transaction():
        db.session.execute(update(Intent).where(Intent.id == a.id).values(status="onboard"))
        db.session.execute(update(Intent).where(Intent.attendee_id == db.session.scalar(
            select(Intent.attendee_id).where(Intent.live_session_id == live.id))).values(status="signed"))
    return f1, f2, live


def test_campaigns_index_and_create(client, login_as):
    login_as("organiser")
    page = client.get("/manage/campaigns").get_data(as_text=True)
    assert "添加活动" in page and "还没有活动" in page
    response = client.post("/manage/campaigns", data={"name": "2026 春风行动", "year": "2026",
                                                      "starts_on": "2026-02-01", "ends_on": "2026-03-31"})
    assert response.status_code == 303
    campaign = db.session.scalar(select(Campaign))
    assert campaign.name == "2026 春风行动" and str(campaign.starts_on) == "2026-02-01"
    assert "2026 春风行动" in client.get("/manage/campaigns").get_data(as_text=True)


@pytest.mark.parametrize("data, message", [
    ({"name": "", "year": "2026"}, "请填写活动名称"),
    ({"name": "x" * 61, "year": "2026"}, "最多 60 个字"),
    ({"name": "春风", "year": "２０２６"}, "4 位数字"),
    ({"name": "春风", "year": "1999"}, "2000 至 2100"),
    ({"name": "春风", "year": "abc"}, "年度"),
    ({"name": "春风", "year": "2026", "starts_on": "2026-03-01", "ends_on": "2026-02-01"}, "不能早于"),
    ({"name": "春风", "year": "2026", "starts_on": "0001-01-01"}, "2000 至 2100"),
    ({"name": "春风", "year": "2026", "starts_on": "2026-13-45"}, "日期格式不正确"),
])
def test_campaign_create_hostile_input(client, login_as, data, message):
    login_as("organiser")
    response = client.post("/manage/campaigns", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_campaign_duplicate_name_refused(client, login_as, campaign):
    login_as("organiser")
    response = client.post("/manage/campaigns", data={"name": campaign.name, "year": "2026"})
    assert response.status_code == 422 and "同名" in response.get_data(as_text=True)


def test_campaign_pages_by_role(client, login_as, campaign):
    assert client.get("/manage/campaigns").status_code in (302, 303)
    login_as("organiser", staff_role="viewer")
    assert client.get(f"/manage/campaigns/{campaign.id}").status_code == 200
    assert "添加活动" not in client.get("/manage/campaigns").get_data(as_text=True)
    assert client.post("/manage/campaigns", data={"name": "x", "year": "2026"}).status_code == 403
    client.post("/logout")
    login_as("employer")
    assert client.get(f"/manage/campaigns/{campaign.id}").status_code == 404
    client.post("/logout")
    login_as("organiser")
    for path in ("/manage/campaigns/999999", "/manage/campaigns/2147483648", "/manage/campaigns/abc",
                 "/manage/campaigns/999999/report.xlsx"):
        assert client.get(path).status_code == 404


def test_fair_form_chooses_a_campaign(client, login_as, campaign, make_fair):
    fair = make_fair()
    login_as("organiser")
    page = client.get(f"/manage/fairs/{fair.id}/edit").get_data(as_text=True)
    assert "所属活动" in page and "2026 春风行动" in page
    data = {"title": fair.title, "kind": "park", "date": "2026-03-03", "campaign_id": str(campaign.id)}
    assert client.post(f"/manage/fairs/{fair.id}/edit", data=data).status_code == 303
    db.session.expire_all()
    assert fair.campaign_id == campaign.id
    for bad in ("999999", "abc", "-1", "١"):
        response = client.post(f"/manage/fairs/{fair.id}/edit", data={**data, "campaign_id": bad})
        assert response.status_code == 422 and "请从列表中选择活动" in response.get_data(as_text=True)
    assert client.post(f"/manage/fairs/{fair.id}/edit", data={**data, "campaign_id": "0"}).status_code == 303
    db.session.expire_all()
    assert fair.campaign_id is None


def test_live_form_chooses_a_campaign(client, login_as, campaign):
    login_as("organiser")
    page = client.get("/live/new").get_data(as_text=True)
    assert "所属活动" in page
    response = client.post("/live/new", data={"title": "春风直播", "fair_id": "0", "campaign_id": str(campaign.id)})
    assert response.status_code == 303
    assert db.session.scalar(select(LiveSession.campaign_id)) == campaign.id


def test_campaign_report_rolls_up_fairs_live_and_desk(client, login_as, campaign, make_fair, make_booth,
                                                      make_employer, make_vacancy, make_intent):
    f1, f2, live = _season(campaign, make_fair, make_booth, make_employer, make_vacancy, make_intent)
    login_as("organiser")
    client.post(f"/manage/fairs/{f1.id}/entrance/walk-in")
    page = client.get(f"/manage/campaigns/{campaign.id}").get_data(as_text=True)
    compact = "".join(page.split())
    assert "招聘会2场，直播带岗1场" in compact
    # 场次 3; employers 2; posts 30 + 40 + 10 = 80; people 3 (王伟, 李娜, 赵强); intents 3.
    for value, label in (("3", "场次"), ("2", "参会企业（家）"), ("80", "提供岗位（个）"), ("3", "达成意向（人）"),
                         ("3", "达成意向（条）"), ("1", "现场签约（人）"), ("2", "录用（人）"), ("1", "到岗（人）")):
        assert f'<spanclass="num">{value}</span><spanclass="label">{label}' in compact, label
    # 进场: fair 1 has 王伟 and 李娜 (desk) and a walk-in = 3; fair 2 nobody.
    assert '<spanclass="num">3</span><spanclass="label">进场人数（人次）' in compact
    # The live session tied to no fair has its own row, with its intent.
    assert "<td>春风行动直播带岗</td>" in compact and "直播带岗</td>" in compact
    assert "<td>现场代登记</td>" in compact and "<td>脱贫人口</td>" in compact
    assert "别的招聘会" not in page and "不算" not in page


def test_campaign_report_xlsx_is_a_return(client, login_as, campaign, make_fair, make_booth,
                                          make_employer, make_vacancy, make_intent):
    _season(campaign, make_fair, make_booth, make_employer, make_vacancy, make_intent)
    login_as("organiser", staff_role="viewer")
    response = client.get(f"/manage/campaigns/{campaign.id}/report.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == ["统计表", "分场次"]
    rows = list(wb["统计表"].iter_rows(values_only=True))
    assert rows[0][0] == "2026 春风行动 招聘活动统计表"
    header = next(r for r in rows if r[0] == "项目")
    assert list(header[1:11]) == ["场次", "参会企业（家）", "提供岗位（个）", "平均月薪（元）", "进场人数（人次）",
                                  "达成意向（人）", "达成意向（条）", "现场签约（人）", "录用（人）", "到岗（人）"]
    total = dict(zip(header, next(r for r in rows if r[0] == "合计"), strict=True))
    assert (total["场次"], total["参会企业（家）"], total["提供岗位（个）"], total["进场人数（人次）"]) == (3, 2, 80, 2)
    assert (total["达成意向（人）"], total["现场签约（人）"], total["录用（人）"], total["到岗（人）"]) == (3, 1, 2, 1)
    poverty = dict(zip(header, next(r for r in rows if r[0] and r[0].strip() == "脱贫人口"), strict=True))
    assert poverty["达成意向（人）"] == 1 and poverty["到岗（人）"] == 1 and poverty["场次"] == "—"
    detail = list(wb["分场次"].iter_rows(values_only=True))
    names = [r[0] for r in detail[1:]]
    assert names == ["春风行动·人民公园专场", "春风行动·高新区夜市", "春风行动直播带岗", "合计"]
    live_row = dict(zip(detail[0], detail[3], strict=True))
    assert live_row["形式"] == "直播带岗" and live_row["达成意向（条）"] == 1 and live_row["提供岗位（个）"] == 10


def test_live_session_without_fair_counts_only_in_its_campaign(client, login_as, campaign, make_vacancy):
    vacancy = make_vacancy(headcount=5)
    live = LiveSession(title="独立直播", status="live", campaign_id=campaign.id)
    db.session.add(live)
    db.session.flush()
    db.session.add(LiveItem(session_id=live.id, vacancy_id=vacancy.id, position=0))
    db.session.commit()
    with write_transaction():
        person, _ = find_or_create_attendee("钱七", "13500000001", [], "v1")
        record_intent(person, vacancy, "live", live_session_id=live.id, now=datetime(2026, 3, 3, 4))
    login_as("organiser")
    compact = "".join(client.get(f"/manage/campaigns/{campaign.id}").get_data(as_text=True).split())
    assert '<spanclass="num">1</span><spanclass="label">达成意向（条）' in compact
    assert '<spanclass="num">5</span><spanclass="label">提供岗位（个）' in compact
