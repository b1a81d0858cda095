"""Every input gets a clear answer: numbers as people type them (and as attackers do), ids out
of any column's range, text with NUL bytes or CR/LF, repeated fields, bodies that are too
large, methods a URL does not take; and error pages that themselves never fail."""
from __future__ import annotations

import html
import re

import pytest
from flask import abort
from sqlalchemy import select, text

from fairsite import web
from fairsite.booths.models import Booth
from fairsite.extensions import db
from fairsite.intents.models import Attendee, Intent
from fairsite.live.models import LiveItem, LiveSession
from fairsite.numbers import MAX_ID, parse_id, parse_ids, parse_number, parse_page
from fairsite.phones import normalise_phone
from fairsite.tallies import service as tallies
from fairsite.vacancies.forms import parse_whole_number
from fairsite.vacancies.models import Vacancy
from fairsite.web import download_name
from tests.conftest import PASSWORD

# --- the one number parser -------------------------------------------------------------------


@pytest.mark.parametrize("raw, expected", [
    ("1", 1), (" 42 ", 42), ("007", 7), (str(MAX_ID), MAX_ID),
    ("0", None), ("-1", None), ("+1", None), ("1_000", None), ("1.0", None), ("", None),
    (None, None), ("²", None), ("١٢", None), ("１２", None), ("2147483648", None),
    ("9" * 30, None), ("1\x00", None), ("0x10", None),
])
def test_parse_id_takes_ascii_digits_within_the_column(raw, expected):
    assert parse_id(raw) == expected


def test_parse_number_bounds_and_parse_ids_dedupes():
    assert parse_number("0", 0, 10) == 0 and parse_number("11", 0, 10) is None
    assert parse_ids(["3", "²", "3", "9" * 30, "4", "-1"]) == [3, 4]
    assert parse_ids([str(n) for n in range(1, 100)], limit=5) == [1, 2, 3, 4, 5]
    assert parse_page("10" + "0" * 28) == 1 and parse_page("²") == 1 and parse_page("3") == 3


# --- ids in the path ---------------------------------------------------------------------------


@pytest.mark.parametrize("fair_id", ["2147483648", str(2**63), "9" * 30, "١٢", "²", "0", "2147483647"])
def test_fairs_show_id_out_of_range_is_a_chinese_404(client, make_fair, fair_id):
    make_fair()
    response = client.get(f"/fairs/{fair_id}")
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)


def test_manage_routes_id_out_of_range_is_a_404_for_organisers(client, login_as, make_fair):
    make_fair()
    login_as("organiser")
    for url in ("/manage/fairs/2147483648", f"/manage/fairs/{2**63}/board", "/manage/booths/2147483648/reject",
                "/live/2147483648/host", "/employer/vacancies/2147483648"):
        method = "POST" if url.endswith("reject") else "GET"
        assert client.open(url, method=method).status_code == 404, url


# --- numbers in the query string and forms -----------------------------------------------------


def _fair_with(make_fair, make_booth, make_employer, make_vacancy, n: int):
    fair = make_fair()
    employer = make_employer()
    make_booth(fair=fair, employer=employer,
               vacancies=[make_vacancy(employer, title=f"岗位{i:02d}") for i in range(n)])
    return fair


def test_fairs_show_next_page_without_htmx_is_the_whole_page(client, hx, make_fair, make_booth,
                                                              make_employer, make_vacancy):
    fair = _fair_with(make_fair, make_booth, make_employer, make_vacancy, 32)
    first = client.get(f"/fairs/{fair.id}").get_data(as_text=True)
    assert "下一页" in first
    next_url = html.unescape(re.search(r'href="([^"]+)#jobs">下一页', first).group(1))
    response = client.get(next_url)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    # The whole page (headline, booths), with the rows past the first 30.
    assert "参会企业" in page and "展位一览" in page
    assert "岗位31" in page and "岗位00" not in page
    # htmx's infinite scroll still gets only the next rows.
    fragment = hx.get(next_url).get_data(as_text=True)
    assert "岗位31" in fragment and "<html" not in fragment and "展位一览" not in fragment


@pytest.mark.parametrize("args", [{"page": "1" + "0" * 30}, {"page": "²"}, {"after": "A-01~" + "9" * 30},
                                  {"after": "~²"}, {"after": "\x00~1"}, {"after": "x" * 300 + "~1"},
                                  {"after": "A-01~١"}])
def test_fairs_show_page_or_cursor_that_is_not_one_is_an_answer(client, make_fair, make_booth,
                                                                 make_employer, make_vacancy, args):
    fair = _fair_with(make_fair, make_booth, make_employer, make_vacancy, 2)
    response = client.get(f"/fairs/{fair.id}", query_string=args)
    assert response.status_code == 200


@pytest.mark.parametrize("min_pay", ["²", "١٢٠٠٠", "9" * 30, "-1", "\x00"])
def test_fairs_show_min_pay_that_is_not_a_number_filters_nothing(client, make_fair, make_booth,
                                                                  make_employer, make_vacancy, min_pay):
    fair = _fair_with(make_fair, make_booth, make_employer, make_vacancy, 2)
    response = client.get(f"/fairs/{fair.id}", query_string={"min_pay": min_pay})
    assert response.status_code == 200
    assert "共 2 个职位符合条件" in response.get_data(as_text=True)


@pytest.mark.parametrize("fair", ["²", "١", "9" * 30, "2147483648"])
def test_employer_intents_filter_that_is_not_an_id_is_ignored(client, login_as, make_booth, make_intent, fair):
    booth = make_booth()
    make_intent(booth)
    login_as("employer", employer=booth.employer)
    for url in ("/employer/intents", "/employer/intents/rows"):
        response = client.get(url, query_string={"fair": fair, "vacancy": fair, "page": fair})
        assert response.status_code == 200, url
        assert "张三" in response.get_data(as_text=True)


def test_desk_picks_that_are_not_ids_are_dropped(client, login_as, make_booth):
    booth = make_booth()
    login_as("organiser")
    response = client.post(f"/manage/fairs/{booth.fair_id}/desk", data={
        "name": "李桂兰", "phone": "13900139000", "consent": "y", "action": "register",
        "vacancy": ["²", "١", "9" * 30, str(booth.vacancies[0].id)]})
    assert response.status_code == 303
    assert db.session.scalar(select(Intent.vacancy_id)) == booth.vacancies[0].id


def test_placements_ids_that_are_not_ids_are_dropped(client, login_as, make_booth):
    booth = make_booth(vacancies=2)
    login_as("employer", employer=booth.employer)
    keep = booth.vacancies[1].id
    response = client.post(f"/employer/booths/{booth.id}/vacancies",
                           data={"vacancy": ["²", "9" * 30, str(keep), str(keep)]})
    assert response.status_code == 303
    db.session.expire_all()
    assert [v.id for v in db.session.get(Booth, booth.id).vacancies] == [keep]


@pytest.fixture
def live(make_booth):
    booth = make_booth(vacancies=1)
    session = LiveSession(title="直播", employer_id=booth.employer_id, status="live")
    db.session.add(session)
    db.session.flush()
    db.session.add(LiveItem(session_id=session.id, vacancy_id=booth.vacancies[0].id, position=0))
    db.session.commit()
    return session


@pytest.mark.parametrize("vacancy_id", ["9" * 30, "2147483648", "²", "١"])
def test_add_item_and_present_ids_that_are_not_ids(client, login_as, live, vacancy_id):
    login_as("organiser")
    assert client.post(f"/live/{live.id}/items", data={"vacancy_id": vacancy_id}).status_code == 404
    assert client.post(f"/live/{live.id}/present", data={"vacancy_id": vacancy_id}).status_code == 400


def test_candidates_search_with_nul_bytes_is_an_answer(hx, login_as, live):
    login_as("organiser")
    response = hx.get(f"/live/{live.id}/candidates", query_string={"q": "岗\x00位\r\n"})
    assert response.status_code == 200


# --- text that reaches the database --------------------------------------------------------


def test_manage_reject_reason_with_nul_and_control_characters_is_stored_clean(client, login_as, make_booth):
    booth = make_booth(status="applied")
    login_as("organiser")
    response = client.post(f"/manage/booths/{booth.id}/reject", data={"reason": " 材料\x00不全\x07\u202e "})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Booth, booth.id).reject_reason == "材料不全"


def test_sign_key_group_repeated_200_times_counts_once(client, make_booth):
    booth = make_booth()
    response = client.post("/intents/sign", data={
        "vacancy_id": booth.vacancies[0].id, "booth": booth.token, "step": "form", "name": "张三",
        "phone": "13800138000", "consent": "y", "groups": ["graduate"] * 200 + ["veteran", "nonsense"]})
    assert response.status_code == 303
    assert db.session.scalar(select(Attendee.groups)) == "graduate,veteran"
    counts = tallies.read(f"fair:{booth.fair_id}")
    assert counts["group"]["graduate"] == 1 and counts["group"]["veteran"] == 1


def test_desk_key_group_repeated_counts_once(client, login_as, make_booth):
    booth = make_booth()
    login_as("organiser")
    client.post(f"/manage/fairs/{booth.fair_id}/desk", data={
        "name": "李桂兰", "phone": "13900139000", "consent": "y", "action": "register",
        "vacancy": str(booth.vacancies[0].id), "groups": ["poverty"] * 200})
    assert db.session.scalar(select(Attendee.groups)) == "poverty"
    assert tallies.read(f"fair:{booth.fair_id}")["group"]["poverty"] == 1


# --- download names --------------------------------------------------------------------------


def test_report_xlsx_title_with_cr_lf_and_quotes_downloads_with_a_safe_name(client, login_as, make_fair):
    fair = make_fair(title='春风\r\nSet-Cookie: x=1 "行动"; \\..\\/招聘会\u202e')
    login_as("organiser")
    response = client.get(f"/manage/fairs/{fair.id}/report.xlsx")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition and "Set-Cookie" not in response.headers
    assert disposition.startswith("attachment;")
    assert "%E6%98%A5%E9%A3%8E" in disposition  # 春风, in the UTF-8 name
    assert "%22" not in disposition and "%2F" not in disposition.lower() and "%5C" not in disposition


def test_download_name_keeps_words_and_drops_what_breaks_headers():
    assert download_name("20260303-春风行动-统计报表", "xlsx") == "20260303-春风行动-统计报表.xlsx"
    name = download_name('a\r\nb"c;d/e\\f\u202eg\x00h', "csv")
    assert name == "a_b_c_d_e_f_g_h.csv"
    assert download_name(" .. ", "csv") == "download.csv"
    assert len(download_name("长" * 500, "xlsx")) <= 85


def test_export_download_name_is_safe(client, login_as, make_booth, make_intent):
    booth = make_booth()
    make_intent(booth)
    login_as("employer", employer=booth.employer)
    for fmt in ("csv", "xlsx"):
        response = client.post("/employer/intents/export", data={"format": fmt})
        assert response.status_code == 200
        assert "\n" not in response.headers["Content-Disposition"]
        assert f".{fmt}" in response.headers["Content-Disposition"]


# --- error pages -----------------------------------------------------------------------------


def test_logout_get_is_a_chinese_405_page(client):
    response = client.get("/logout")
    assert response.status_code == 405
    assert "不能这样打开" in response.get_data(as_text=True)
    assert "POST" in response.headers["Allow"]


def test_static_range_past_the_end_is_a_chinese_416_page(client):
    response = client.get("/static/css/site.css", headers={"Range": "bytes=99999999-"})
    assert response.status_code == 416
    assert "请求有误" in response.get_data(as_text=True)
    assert response.headers["Content-Range"].startswith("bytes */")


def test_sign_body_over_the_limit_is_a_chinese_413_page(app, client, make_booth):
    booth = make_booth()
    assert app.config["MAX_CONTENT_LENGTH"] == 64 * 1024
    response = client.post("/intents/sign", data={
        "vacancy_id": booth.vacancies[0].id, "booth": booth.token, "name": "长" * 30_000})
    assert response.status_code == 413
    assert "提交的内容太长" in response.get_data(as_text=True)
    assert db.session.scalar(select(Attendee.id)) is None


def test_multipart_with_too_many_parts_is_a_413(app, client, make_booth):
    booth = make_booth()
    data = {f"f{i}": "x" for i in range(app.config["MAX_FORM_PARTS"] + 1)}
    response = client.post("/intents/sign", data={"booth": booth.token, **data},
                           content_type="multipart/form-data")
    assert response.status_code == 413


@pytest.fixture
def app_config():
    # The error pages as production shows them, instead of exceptions raised into the test.
    return {"PROPAGATE_EXCEPTIONS": False}


@pytest.fixture
def app_log(app):
    """The app's log (Alembic's logging set-up, run by the migrations in this process,
    switches existing loggers off)."""
    disabled, app.logger.disabled = app.logger.disabled, False
    yield
    app.logger.disabled = disabled


def _failing_routes(app):
    def failed_query():
        """A statement fails (on PostgreSQL the transaction is now aborted), then a 404."""
        try:
            db.session.execute(text("SELECT no_such_column FROM fairs"))
        except Exception:
            abort(404)

    def failed_request():
        db.session.execute(text("SELECT no_such_column FROM fairs"))

    app.add_url_rule("/test/failed-query", view_func=failed_query)
    app.add_url_rule("/test/failed-request", view_func=failed_request)


def test_error_pages_render_after_a_failed_statement(app, make_user, caplog, app_log):
    """The logged-in organiser's page (its menu loads the user) renders in a fresh
    transaction: the error handlers roll back first."""
    _failing_routes(app)
    user = make_user("organiser")
    client = app.test_client()
    # Each request in an app context of its own, as in production (no user cached in g).
    with app.app_context():
        assert client.post("/login", data={"login": user.login, "password": PASSWORD}).status_code == 303
    with app.app_context():
        response = client.get("/test/failed-query")
        assert response.status_code == 404
        assert "页面不存在" in response.get_data(as_text=True)
    with app.app_context():
        response = client.get("/test/failed-request")
        page = response.get_data(as_text=True)
        assert response.status_code == 500
        assert "出错了" in page and "<html" in page  # the real page, not the last resort
    messages = [r.getMessage() for r in caplog.records]
    assert any("Exception on /test/failed-request" in m for m in messages)  # the log is read
    assert not [m for m in messages if "error page failed" in m or "Rollback" in m]


def test_server_error_page_never_fails_itself(app, client, monkeypatch):
    _failing_routes(app)

    def broken(*_args, **_kwargs):
        raise RuntimeError("template broken")

    monkeypatch.setattr(web, "render_template", broken)
    response = client.get("/test/failed-request")
    assert response.status_code == 500
    assert "服务器出了点问题" in response.get_data(as_text=True)


# --- what people really type ---------------------------------------------------------------


@pytest.mark.parametrize("typed, expected", [
    ("4500", 4500), ("4500元", 4500), ("4,500", 4500), ("4，500", 4500), ("4500.00", 4500),
    ("4.5k", 4500), ("4.5K", 4500), ("4千5", 4500), ("4千", 4000), ("1.2万", 12000), ("1万2", 12000),
    ("４５００", 4500), ("４５００元", 4500), ("¥4500元/月", 4500), ("￥4,500", 4500),
    ("4500 元", 4500), ("4500/月", 4500), ("٤٥٠٠", 4500), ("30人", 30), ("45岁", 45), ("", None),
    ("  ", None), ("-1", -1),
])
def test_parse_whole_number_reads_what_people_type(typed, expected):
    assert parse_whole_number(typed) == expected


@pytest.mark.parametrize("typed", ["abc", "4500.5", "4.5千5", "²", "①", "4..5", "4k5k", "0x10", "1e5",
                                   "9" * 40, "\x00"])
def test_parse_whole_number_refuses_what_is_not_a_whole_number(typed):
    with pytest.raises(ValueError):
        parse_whole_number(typed)


def test_vacancies_create_accepts_pay_as_people_write_it(client, login_as):
    login_as("employer")
    response = client.post("/employer/vacancies", data={
        "new-title": "普工", "new-category": "production", "new-headcount": "３０人",
        "new-pay_min": "4千5", "new-pay_max": "6,000元", "new-age_min": "18岁", "new-age_max": "",
        "new-education": ""})
    assert response.status_code == 303
    vacancy = db.session.scalar(select(Vacancy))
    assert (vacancy.headcount, vacancy.pay_min, vacancy.pay_max, vacancy.age_min) == (30, 4500, 6000, 18)


def test_vacancies_create_pay_in_superscript_is_refused_in_chinese(client, login_as):
    login_as("employer")
    response = client.post("/employer/vacancies", data={
        "new-title": "普工", "new-category": "production", "new-headcount": "1",
        "new-pay_min": "4500²", "new-pay_max": "9" * 30, "new-education": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "请填写整数" in page and "月薪应在 500–100,000 元之间" in page
    assert db.session.scalar(select(Vacancy)) is None


@pytest.mark.parametrize("typed", [
    "13800138000", "138 0013 8000", "138-0013-8000", "+86 138 0013 8000", "+8613800138000",
    "0086 13800138000", "8613800138000", "(+86) 138-0013-8000", "１３８００１３８０００",
    "١٣٨٠٠١٣٨٠٠٠", "۱۳۸۰۰۱۳۸۰۰۰", "tel:13800138000", "TEL:+86-138-0013-8000",
    "13800138000\u200b", "\ufeff13800138000", "\u202a13800138000\u202c", " 138.0013.8000 ",
])
def test_normalise_phone_accepts_what_people_type(typed):
    assert normalise_phone(typed) == "13800138000"


@pytest.mark.parametrize("typed", ["", None, "1380013800", "138001380001", "12800138000", "²3800138000",
                                   "138\x0013800138000", "tel:", "+1 415 555 0100", "1" * 100,
                                   "13800138000x"])
def test_normalise_phone_refuses_what_is_not_a_mainland_mobile(typed):
    assert normalise_phone(typed) is None
