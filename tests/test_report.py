"""The day's report: a printable page and an .xlsx file with what bureaus report upward."""
import io
from datetime import datetime

from openpyxl import load_workbook
from sqlalchemy import update

from fairsite.extensions import db
from fairsite.intents.models import Intent
from fairsite.intents.service import find_or_create_attendee, record_intent, withdraw
from fairsite.sql import write_transaction


def _day(make_fair, make_booth, make_employer, make_vacancy):
    """Three people at one fair: a returnee hired, a graduate interviewed, one who withdrew."""
    fair = make_fair()
    e = make_employer(name="川南汽车零部件有限公司")
    v1 = make_vacancy(e, title="冲压操作工", headcount=30, pay_min=4000, pay_max=5000)
    v2 = make_vacancy(e, title="喷涂工", headcount=10, pay_min=5000, pay_max=6000)
    booth = make_booth(fair=fair, employer=e, number="A-08", vacancies=[v1, v2])
    with write_transaction():
        a, _ = find_or_create_attendee("王伟", "13700000001", ["returnee", "poverty"], "v1")
        b, _ = find_or_create_attendee("李娜", "13700000002", ["graduate"], "v1")
        c, _ = find_or_create_attendee("赵强", "13700000003", [], "v1")
        at = datetime(2026, 3, 3, 2, 5)  # 10:05 in China
        ia = record_intent(a, v1, "booth", fair_id=fair.id, booth_id=booth.id, now=at)
        record_intent(a, v2, "desk", fair_id=fair.id, booth_id=booth.id, now=at)
        ib = record_intent(b, v1, "live", fair_id=fair.id, now=datetime(2026, 3, 3, 6, 30))  # 14:30
        ic = record_intent(c, v2, "booth", fair_id=fair.id, booth_id=booth.id, now=at)
    with write_transaction():
        db.session.execute(update(Intent).where(Intent.id == ia.intent_id).values(status="hired"))
        db.session.execute(update(Intent).where(Intent.id == ib.intent_id).values(status="interviewed"))
    withdraw(ic.intent_id, c.id)
    return fair


def test_report_page_shows_totals_groups_sources_hours_and_follow_up(client, login_as, make_fair, make_booth, make_employer, make_vacancy):
    fair = _day(make_fair, make_booth, make_employer, make_vacancy)
    login_as("organiser")
    page = client.get(f"/manage/fairs/{fair.id}/report").get_data(as_text=True)
    assert "招聘会统计报表" in page
    # 40 posts, average (30*4500 + 10*5500)/40 = 4750
    assert '<span class="num">40</span>' in page and '<span class="num">4,750</span>' in page
    compact = "".join(page.split())
    def cells(*values):
        return "".join(f'<tdclass="n">{v}</td>' for v in values)

    # Columns: 进场, people, intents, contacted, interviewed, 现场签约, 录用, 到岗.
    # Returnees: came, 1 person, 2 intents, contacted/interviewed/hired (withdrawn intent left out).
    assert "<td>返乡农民工</td>" + cells(1, 1, 2, 1, 1, 0, 1, 0) in compact
    # The graduate signed from the live session: not at the gate.
    assert "<td>高校毕业生</td>" + cells(0, 1, 1, 1, 1, 0, 0, 0) in compact
    # Two came (the one who withdrew came too).
    assert "<td>合计</td>" + cells(2, 2, 3, 2, 2, 0, 1, 0) in compact
    assert "<td>现场代登记</td>" + cells("—", 1, 1) in compact
    assert "<td>10:00–10:59</td>" in page and "<td>14:00–14:59</td>" in page
    assert "A-08" in page and "川南汽车零部件有限公司" in page


def test_report_xlsx_has_a_sheet_per_breakdown(client, login_as, make_fair, make_booth, make_employer, make_vacancy):
    fair = _day(make_fair, make_booth, make_employer, make_vacancy)
    login_as("organiser")
    response = client.get(f"/manage/fairs/{fair.id}/report.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == ["总览", "按重点群体", "按来源", "按时段", "按企业"]
    summary = {row[0]: row[1] for row in wb["总览"].iter_rows(values_only=True) if row and row[0]}
    assert summary["招聘岗位（个）"] == 40 and summary["平均月薪（元）"] == 4750
    assert summary["达成意向（人）"] == 2 and summary["达成意向（条）"] == 3 and summary["录用（人）"] == 1
    assert summary["进场人数（人）"] == 2 and summary["进场者中达成意向（%）"] == 100
    groups = {row[0]: row[1:] for row in wb["按重点群体"].iter_rows(min_row=2, values_only=True) if row and row[0]}
    assert groups["返乡农民工"] == (1, 1, 2, 1, 1, 0, 1, 0)
    assert groups["脱贫人口"] == (1, 1, 2, 1, 1, 0, 1, 0)
    assert groups["合计"] == (2, 2, 3, 2, 2, 0, 1, 0)
    employers = list(wb["按企业"].iter_rows(min_row=2, values_only=True))
    assert employers[0][:2] == ("A-08", "川南汽车零部件有限公司")


def test_report_of_a_fair_without_intents(client, login_as, make_fair):
    fair = make_fair()
    login_as("organiser")
    assert "还没有求职意向" in client.get(f"/manage/fairs/{fair.id}/report").get_data(as_text=True)
    assert client.get(f"/manage/fairs/{fair.id}/report.xlsx").status_code == 200
