"""The employer's list of people who signed: filters, status inline, reveal (logged), live
refresh, and the exports (xlsx read back with openpyxl, CSV with a BOM)."""
import csv
import io

import pytest
from openpyxl import load_workbook

from fairsite import pubsub
from fairsite.audit.models import AuditEntry
from fairsite.extensions import db
from fairsite.intents.service import withdraw


@pytest.fixture
def sign(make_intent):
    """Most people on these lists are returnees."""
    return lambda booth, vacancy=None, groups=("returnee",), **kw: make_intent(booth, vacancy, groups=groups, **kw)


@pytest.fixture
def booth(login_as, make_booth):
    user = login_as("employer")
    return make_booth(employer=user.employer, vacancies=2, number="A-05")


def test_employer_index_lists_own_intents_with_masked_phone(client, booth, sign, make_booth):
    sign(booth, name="王小明", phone="13800138000", groups=("returnee", "poverty"))
    other = make_booth(vacancies=1)
    sign(other, name="别家的人", phone="13900139000")
    page = client.get("/employer/intents").get_data(as_text=True)
    assert "王小明" in page and "138****8000" in page
    assert "13800138000" not in page
    assert "返乡农民工" in page and "脱贫人口" in page and "展位扫码" in page and "A-05" in page
    assert "别家的人" not in page


def test_employer_index_filters_by_vacancy_status_group_and_fair(client, hx, booth, sign, make_booth):
    v1, v2 = booth.vacancies
    sign(booth, v1, name="甲", phone="13800000001", groups=("graduate",))
    i2 = sign(booth, v2, name="乙", phone="13800000002", groups=("returnee",))
    i2.status = "hired"
    db.session.commit()

    def names(query):
        body = hx.get("/employer/intents?" + query).get_data(as_text=True)
        return {n for n in ("甲", "乙") if f"<strong>{n}</strong>" in body}

    assert names(f"vacancy={v1.id}") == {"甲"}
    assert names("status=hired") == {"乙"}
    assert names("group=graduate") == {"甲"}
    assert names(f"fair={booth.fair_id}") == {"甲", "乙"}
    assert names("fair=999999") == set()
    assert names("status=bogus&group=<x>") == {"甲", "乙"}  # nonsense is ignored


def test_employer_status_moves_row_and_saves_note(hx, booth, sign):
    intent = sign(booth)
    response = hx.post(f"/employer/intents/{intent.id}/status", data={"status": "interviewed", "note": "周三面试"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<tr id="intent-row-{intent.id}"') and "已保存" in body
    db.session.expire_all()
    assert (intent.status, intent.note) == ("interviewed", "周三面试")


def test_employer_status_publishes_to_employer_channel(hx, booth, sign):
    intent = sign(booth)
    with pubsub.subscribe(f"employer:{booth.employer_id}") as sub:
        hx.post(f"/employer/intents/{intent.id}/status", data={"status": "contacted", "note": ""})
        assert "event: intents" in (sub.get(timeout=1) or "")


def test_employer_status_refuses_withdrawn_and_unknown(client, hx, booth, sign):
    intent = sign(booth)
    assert hx.post(f"/employer/intents/{intent.id}/status", data={"status": "married"}).get_data(as_text=True).count("请选择跟进状态") == 1
    withdraw(intent.id, intent.attendee_id)
    body = hx.post(f"/employer/intents/{intent.id}/status", data={"status": "hired"}).get_data(as_text=True)
    assert "已撤回" in body
    response = client.post(f"/employer/intents/{intent.id}/status", data={"status": "hired"}, follow_redirects=True)
    assert "对方已撤回意向" in response.get_data(as_text=True)
    db.session.expire_all()
    assert intent.status == "new"
    page = client.get("/employer/intents").get_data(as_text=True)
    assert "已撤回" in page and "reveal" not in page


def test_employer_reveal_shows_number_and_logs_without_it(hx, client, booth, sign):
    intent = sign(booth, phone="13812345678")
    body = hx.post(f"/employer/intents/{intent.id}/reveal").get_data(as_text=True)
    assert "13812345678" in body and 'href="tel:13812345678"' in body
    logs = db.session.query(AuditEntry).all()
    assert [(log.action, log.obj_type, log.obj_id) for log in logs] == [("phone.reveal", "intent", intent.id)]
    assert all("13812345678" not in (log.detail or "") for log in logs)
    # The list itself still masks it; without JavaScript the reveal answers with the list.
    assert "13812345678" not in client.get("/employer/intents").get_data(as_text=True)
    full = client.post(f"/employer/intents/{intent.id}/reveal").get_data(as_text=True)
    assert "<html" in full and "13812345678" in full


def test_employer_reveal_of_withdrawn_is_refused(hx, booth, sign):
    intent = sign(booth)
    withdraw(intent.id, intent.attendee_id)
    body = hx.post(f"/employer/intents/{intent.id}/reveal").get_data(as_text=True)
    assert "已撤回" in body and "13800138000" not in body and "显示号码" not in body
    assert db.session.query(AuditEntry).count() == 0


def test_employer_rows_answers_204_until_something_changes(hx, booth, sign):
    sign(booth, name="甲", phone="13800000001")
    first = hx.get("/employer/intents/rows")
    body = first.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="employer-intent-rows"')
    import re

    version = re.search(r'v=([^&"]+)', body).group(1)
    assert hx.get(f"/employer/intents/rows?v={version}").status_code == 204
    sign(booth, booth.vacancies[1], name="新来的乙", phone="13800000002")
    again = hx.get(f"/employer/intents/rows?v={version}")
    assert again.status_code == 200 and "新来的乙" in again.get_data(as_text=True)


def test_employer_index_page_subscribes_to_sse(client, booth):
    page = client.get("/employer/intents").get_data(as_text=True)
    assert 'sse-connect="/employer/intents/stream"' in page
    assert "htmx-ext-sse-2.2.4.min." in page  # under its hashed name (fairsite/assets.py)
    assert "sse:intents" in page and "every 10s" in page


def test_employer_stream_is_event_stream(client, booth, app):
    app.config["SSE_HEARTBEAT"] = 0.05
    response = client.get("/employer/intents/stream")
    assert response.mimetype == "text/event-stream"
    assert next(response.response).startswith(b": connected")
    response.close()


def test_employer_export_xlsx_reads_back(client, booth, sign):
    sign(booth, name="王小明", phone="13800138000", groups=("returnee",))
    sign(booth, booth.vacancies[1], name="=HYPERLINK(1)", phone="13900139000", groups=())
    response = client.post("/employer/intents/export", data={"format": "xlsx"})
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [[c if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert rows[0][:3] == ["姓名", "手机号", "重点群体"]
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["王小明"][1] == "13800138000" and by_name["王小明"][2] == "返乡农民工"
    assert by_name["王小明"][9] == "待联系"
    assert "'=HYPERLINK(1)" in by_name  # not a live formula
    log = db.session.query(AuditEntry).one()
    assert log.action == "intents.export" and "xlsx" in log.detail and "rows=2" in log.detail
    assert "13800138000" not in log.detail


def test_employer_export_csv_has_bom_and_chinese(client, booth, sign):
    sign(booth, name="李四", phone="13700137000", groups=("graduate",))
    response = client.post("/employer/intents/export", data={"format": "csv"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][0] == "姓名"
    assert rows[1][:3] == ["李四", "13700137000", "高校毕业生"]


def test_employer_export_streams_many_rows_in_batches(client, booth, sign, monkeypatch):
    from fairsite.intents import employer

    monkeypatch.setattr(employer, "EXPORT_BATCH", 7)
    vacancy = booth.vacancies[0]
    for i in range(30):
        sign(booth, vacancy, name=f"人{i}", phone=f"1380000{i:04d}", groups=())
    response = client.post("/employer/intents/export", data={"format": "csv"})
    assert response.is_streamed
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert len(rows) == 31 and len({r[1] for r in rows[1:]}) == 30


def test_employer_export_follows_filters_and_masks_withdrawn(client, booth, sign):
    v1, v2 = booth.vacancies
    sign(booth, v1, name="甲", phone="13800000001")
    gone = sign(booth, v2, name="乙", phone="13800000002")
    withdraw(gone.id, gone.attendee_id)
    v1_id = v1.id  # the export gives the session back before streaming
    rows = list(csv.reader(io.StringIO(client.post("/employer/intents/export", data={"format": "csv"}).get_data().decode("utf-8-sig"))))
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["乙"][1] == "138****0002" and by_name["乙"][9] == "已撤回"
    rows = list(csv.reader(io.StringIO(client.post("/employer/intents/export", data={"format": "csv", "vacancy": v1_id}).get_data().decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["甲"]


def test_employer_export_is_post_only(client, booth):
    assert client.get("/employer/intents/export").status_code == 405
    assert client.post("/employer/intents/export", data={"format": "pdf"}).status_code == 400


def test_dashboard_shows_newest_intents(client, booth, sign):
    sign(booth, name="王小明")
    page = client.get("/employer").get_data(as_text=True)
    assert "王小明" in page and "138****8000" in page


def test_employer_rows_version_moves_on_status_and_withdrawal(hx, booth, sign):
    import re

    intent = sign(booth)
    other = sign(booth, booth.vacancies[1], name="乙", phone="13800000002")

    def version():
        body = hx.get("/employer/intents/rows").get_data(as_text=True)
        return re.search(r'v=([^&"]+)', body).group(1)

    v1 = version()
    hx.post(f"/employer/intents/{intent.id}/status", data={"status": "contacted", "note": ""})
    v2 = version()
    assert v2 != v1
    assert hx.get(f"/employer/intents/rows?v={v1}").status_code == 200
    withdraw(other.id, other.attendee_id)
    assert version() != v2


def test_employer_status_sends_new_version_so_own_change_does_not_redraw(hx, booth, sign):
    import re

    intent = sign(booth)
    body = hx.post(f"/employer/intents/{intent.id}/status",
                   data={"status": "contacted", "note": "", "vacancy": str(booth.vacancies[0].id)}).get_data(as_text=True)
    poll = re.search(r'<tr id="employer-intent-poll"[^>]*>', body).group(0)
    assert 'hx-swap-oob="true"' in poll and f"vacancy={booth.vacancies[0].id}" in poll
    version = re.search(r'v=([^&"]+)', poll).group(1)
    assert hx.get(f"/employer/intents/rows?v={version}").status_code == 204


# --- keyset pages, bounded counts, bounded walks (flat at a big employer's size) ------------

def _names(body: str) -> list[str]:
    import re

    return re.findall(r"<strong>([^<]+)</strong>", body)


def _next_url(body: str) -> str | None:
    import html
    import re

    m = re.search(r'<nav class="row pager[^>]*>\s*<a [^>]*href="([^"]+)"', body)
    return html.unescape(m.group(1)) if m else None


def _walk_pages(hx, url: str) -> list[list[str]]:
    pages = []
    while url:
        body = hx.get(url).get_data(as_text=True)
        pages.append(_names(body))
        url = _next_url(body)
        assert len(pages) < 20
    return pages


def test_employer_rows_next_page_goes_on_after_the_last_row_with_ties(hx, booth, sign, monkeypatch):
    from datetime import datetime

    from fairsite.intents import service

    monkeypatch.setattr(service, "PAGE_SIZE", 2)
    v1, v2 = booth.vacancies
    same = datetime(2026, 3, 3, 2, 0)  # five signed in the same instant: ties broken by id
    ids = [sign(booth, v1 if i % 2 else v2, name=f"人{i}", phone=f"1380000{i:04d}", now=same).id for i in range(5)]
    sign(booth, v1, name="最新", phone="13900000001", now=datetime(2026, 3, 3, 3, 0))
    sign(booth, v1, name="最早", phone="13900000002", now=datetime(2026, 3, 3, 1, 0))
    pages = _walk_pages(hx, "/employer/intents")
    by_id = {i: f"人{n}" for n, i in enumerate(ids)}
    expected = ["最新"] + [by_id[i] for i in sorted(ids, reverse=True)] + ["最早"]
    assert [len(p) for p in pages] == [2, 2, 2, 1]
    assert [n for p in pages for n in p] == expected
    # Without JavaScript the next page is the whole page; the first page is a link away.
    page = hx.client.get(f"/employer/intents?after={ids[-1]}").get_data(as_text=True)
    assert "<html" in page and "回到最新" in page


def test_employer_rows_page_keeps_its_place_for_saves_and_refresh(hx, booth, sign, monkeypatch):
    import re

    from fairsite.intents import service

    monkeypatch.setattr(service, "PAGE_SIZE", 1)
    first = sign(booth, name="甲", phone="13800000001")
    second = sign(booth, booth.vacancies[1], name="乙", phone="13800000002")
    body = hx.get(f"/employer/intents/rows?after={second.id}").get_data(as_text=True)
    assert _names(body) == ["甲"]
    assert f'name="after" value="{second.id}"' in body
    poll = re.search(r'<tr id="employer-intent-poll"[^>]*>', body).group(0)
    assert f"after={second.id}" in poll
    saved = hx.post(f"/employer/intents/{first.id}/status",
                    data={"status": "contacted", "note": "", "after": str(second.id)}).get_data(as_text=True)
    assert f"after={second.id}" in re.search(r'<tr id="employer-intent-poll"[^>]*>', saved).group(0)
    # A cursor that is no intent of this employer shows no rows, and a way back.
    body = hx.get("/employer/intents/rows?after=999999").get_data(as_text=True)
    assert _names(body) == [] and "回到最新" in body


def test_employer_rows_count_stops_at_the_limit(hx, booth, sign, monkeypatch):
    from fairsite.intents import service

    monkeypatch.setattr(service, "COUNT_LIMIT", 3)
    for i in range(3):
        sign(booth, name=f"人{i}", phone=f"1380000{i:04d}")
    assert "共 3 条意向" in hx.get("/employer/intents/rows").get_data(as_text=True)
    sign(booth, name="又一个", phone="13900000009")
    body = hx.get("/employer/intents/rows").get_data(as_text=True)
    assert "共 3+ 条意向" in body and len(_names(body)) == 4


def test_employer_rows_group_filter_walks_a_bounded_stretch_and_goes_on(hx, booth, sign, monkeypatch):
    """The key group is checked on a walk of WALK rows at most: a page that ends there links on
    from where the walk stopped, and every match is shown once, in order."""
    from fairsite.intents import service

    monkeypatch.setattr(service, "WALK", 3)
    monkeypatch.setattr(service, "PAGE_SIZE", 2)
    groups = ["veteran", "", "", "", "veteran", "", "veteran", "veteran", "", ""]
    for i, g in enumerate(groups):
        sign(booth, name=f"人{i}", phone=f"1380000{i:04d}", groups=(g,) if g else ())
    pages = _walk_pages(hx, "/employer/intents?group=veteran")
    assert [n for p in pages for n in p] == ["人7", "人6", "人4", "人0"]
    body = hx.get("/employer/intents/rows?group=veteran").get_data(as_text=True)
    assert "共 1+ 条意向" in body  # one among the newest three walked: there may be more
    # A filter with an index of its own and the group: the group checked on the walk.
    assert [n for p in _walk_pages(hx, f"/employer/intents?group=veteran&vacancy={booth.vacancies[0].id}")
            for n in p] == ["人7", "人6", "人4", "人0"]


def test_employer_rows_version_moves_when_a_withdrawn_intent_is_erased(hx, booth, sign):
    import re

    from fairsite.intents.service import erase_attendee

    sign(booth, name="甲", phone="13800000001")
    gone = sign(booth, booth.vacancies[1], name="乙", phone="13800000002")
    withdraw(gone.id, gone.attendee_id)
    body = hx.get("/employer/intents/rows").get_data(as_text=True)
    version = re.search(r'v=([^&"]+)', body).group(1)
    assert hx.get(f"/employer/intents/rows?v={version}").status_code == 204
    erase_attendee(gone.attendee_id)
    again = hx.get(f"/employer/intents/rows?v={version}")
    assert again.status_code == 200 and "乙" not in again.get_data(as_text=True)


def test_employer_export_batches_go_on_past_ties_in_time(client, booth, sign, monkeypatch):
    from datetime import datetime

    from fairsite.intents import employer

    monkeypatch.setattr(employer, "EXPORT_BATCH", 2)
    same = datetime(2026, 3, 3, 2, 0)
    for i in range(5):
        sign(booth, name=f"人{i}", phone=f"1380000{i:04d}", now=same)
    sign(booth, name="早", phone="13900000001", now=datetime(2026, 3, 3, 1, 0))
    rows = list(csv.reader(io.StringIO(client.post("/employer/intents/export", data={"format": "csv"})
                                       .get_data().decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["早", "人0", "人1", "人2", "人3", "人4"]
