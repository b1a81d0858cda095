"""Found and reached (issue 11): every booth of the fair page opens its own page, the home page
leads to live sessions and to "我的登记", /me and the live page lead back; numbers read alike
(posts 岗位 vs vacancies 职位, thousands separators); titles carry the bureau's site name; the
tally board refreshes itself without JavaScript; the desk slip prints the organiser's phone."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import render_template
from sqlalchemy import select

from fairsite.clock import utcnow
from fairsite.extensions import db
from fairsite.fairs.models import Fair
from fairsite.live.models import LiveItem, LiveSession
from fairsite.tallies.report import Row
from fairsite.web import num

FAIR_FORM = {
    "title": "2026 春风行动 · 公园招聘会", "kind": "park", "campaign": "春风行动",
    "venue": "人民公园", "date": "2026-03-03", "opens_at": "08:30", "closes_at": "16:30",
    "description": "", "campaign_id": "0",
}


def title_of(body: str) -> str:
    return re.search(r"<title>(.*?)</title>", body, re.S).group(1)


# --- the fair page's booth list -------------------------------------------------------------

def test_fair_booth_list_links_each_booth_page(client, make_fair, make_booth, make_employer):
    fair = make_fair()
    booths = [make_booth(fair=fair, employer=make_employer(name=f"华兴机械{i}"), number=f"A-0{i}") for i in (1, 2)]
    page = client.get(f"/fairs/{fair.id}").get_data(as_text=True)
    for booth in booths:
        link = re.search(rf'<a class="booth-link" href="(/q/{booth.token})">.*?{booth.number}.*?</a>', page, re.S)
        assert link, booth.number
        opened = client.get(link.group(1))
        assert opened.status_code == 200 and booth.employer.name in opened.get_data(as_text=True)


# --- the home page --------------------------------------------------------------------------

def _session(**kw) -> LiveSession:
    session = LiveSession(**{"title": "直播带岗", "host_name": "小李", **kw})
    db.session.add(session)
    db.session.commit()
    return session


def test_home_lists_live_sessions_now_and_next_for_anyone(client, make_fair, make_employer, make_vacancy):
    make_fair()
    live = _session(title="正在直播的电子厂专场", status="live")
    soon = _session(title="明天的纺织厂专场", status="scheduled", scheduled_at=utcnow() + timedelta(days=1))
    _session(title="已经结束的专场", status="ended")
    _session(title="被下线的专场", status="live", taken_down=True)
    _session(title="上个月没开播的专场", status="scheduled", scheduled_at=utcnow() - timedelta(days=30))
    _session(title="未审核企业的专场", status="live", employer_id=make_employer(status="pending").id)
    page = client.get("/").get_data(as_text=True)
    assert "直播带岗" in page
    listed = re.findall(r'<a class="live-title" href="(/live/\d+)">([^<]+)</a>', page)
    assert listed == [(f"/live/{live.id}", "正在直播的电子厂专场"), (f"/live/{soon.id}", "明天的纺织厂专场")]
    for href, _title in listed:
        assert client.get(href).status_code == 200


def test_home_without_live_sessions_has_no_empty_list(client, make_fair):
    make_fair()
    page = client.get("/").get_data(as_text=True)
    assert 'id="home-live"' not in page


def test_home_links_my_intents(client, make_fair):
    make_fair()
    page = client.get("/").get_data(as_text=True)
    assert '<a class="button secondary" href="/me">查看我的登记</a>' in page
    assert client.get("/me").status_code == 200


def test_me_and_live_page_have_a_way_back(client, make_vacancy):
    assert '<a href="/">← 返回首页</a>' in client.get("/me").get_data(as_text=True)
    v = make_vacancy()
    session = _session(status="live", current_vacancy_id=v.id)
    db.session.add(LiveItem(session_id=session.id, vacancy_id=v.id, position=0))
    db.session.commit()
    page = client.get(f"/live/{session.id}").get_data(as_text=True)
    assert '<a href="/">← 返回首页</a>' in page and 'href="/me">我的登记</a>' in page


# --- numbers read alike -----------------------------------------------------------------------

def test_posts_and_vacancies_are_named_apart_with_thousands_separators(client, make_fair, make_booth,
                                                                         make_employer, make_vacancy):
    fair = make_fair()
    e = make_employer()
    make_booth(fair=fair, employer=e, vacancies=[
        make_vacancy(e, title="装配工", headcount=1200, pay_min=4000, pay_max=5000),
        make_vacancy(e, title="质检员", headcount=71, pay_min=4000, pay_max=5000)])
    page = client.get(f"/fairs/{fair.id}").get_data(as_text=True)
    # 岗位: posts, the sum of headcounts; 职位: the vacancies listed.
    assert "1 家企业 · 1,271 个岗位 · 平均月薪 4,500 元" in page
    assert '<span class="num">1,271</span><span class="label">岗位数（招聘人数）</span>' in page
    assert "共 2 个职位符合条件" in page
    assert "1,271 个岗位 · 平均月薪 4,500 元" in client.get("/").get_data(as_text=True)


def test_num_filter_separates_thousands_and_passes_placeholders(app):
    with app.test_request_context():  # Babel formats in the request's language
        _assert_num()


def _assert_num():
    assert num(5271) == "5,271" and num(1234567) == "1,234,567" and num(0) == "0"
    assert num(3999.6) == "4,000"
    assert num(None) == "" and num("__fs_fair_intents__") == "__fs_fair_intents__"


def test_report_tables_separate_thousands(app):
    rows = [Row("返乡农民工", people=1200, intents=5271, contacted=1034, interviewed=999, hired=1000)]
    with app.test_request_context():
        html = render_template("tallies/_report_table.html", rows=rows, first="重点群体")
    cells = re.findall(r'<td class="n">([^<]*)</td>', html)
    assert {"1,200", "5,271", "1,034", "999", "1,000"} <= set(cells)
    assert not any(re.search(r"[0-9]{4}", c) for c in cells)


# --- titles ------------------------------------------------------------------------------------

def test_titles_carry_the_site_name_not_fairsite(client, make_booth):
    booth = make_booth()
    for path in ("/", f"/fairs/{booth.fair_id}", f"/q/{booth.token}", "/me", "/login", "/no-such-page"):
        title = title_of(client.get(path).get_data(as_text=True))
        assert title.endswith(" · 就业服务招聘平台") and "fairsite" not in title, path


@pytest.mark.parametrize("app_config", [{"SITE_NAME": "东城区就业服务网"}])
def test_titles_follow_the_site_name_setting(client, make_booth):
    booth = make_booth()
    assert title_of(client.get(f"/q/{booth.token}").get_data(as_text=True)).endswith(" · 东城区就业服务网")


# --- the tally board without JavaScript --------------------------------------------------------

def test_tally_board_refreshes_itself_without_javascript(client, login_as, make_fair):
    fair = make_fair()
    login_as("organiser")
    page = client.get(f"/manage/fairs/{fair.id}/board").get_data(as_text=True)
    head = page[:page.index("</head>")]
    assert '<noscript><meta http-equiv="refresh" content="10"></noscript>' in head


# --- the organiser's contact phone: fair form and desk slip --------------------------------------

@pytest.mark.parametrize("typed, stored", [
    ("0571 8888 6666", "0571-88886666"), ("010-6655 8899", "010-66558899"),
    ("（0571）88886666转123", "0571-88886666转123"), ("１３８ ００１３ ８０００", "13800138000"),
    ("12333", "12333"), ("", ""), ("0571-8888\x006666", "0571-88886666"),
])
def test_fair_form_takes_the_contact_phone(client, login_as, make_fair, typed, stored):
    fair = make_fair()
    login_as("organiser")
    response = client.post(f"/manage/fairs/{fair.id}/edit", data={**FAIR_FORM, "contact_phone": typed})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Fair, fair.id).contact_phone == stored
    assert 'name="contact_phone"' in client.get(f"/manage/fairs/{fair.id}/edit").get_data(as_text=True)


@pytest.mark.parametrize("typed", ["abc", "<script>alert(1)</script>", "٠٥٧١٨٨٨٨٦٦٦٦",
                                   "1234", "0" * 30, "12345678901", "0571-88886666转", "²³³³³"])
def test_fair_form_refuses_a_bad_contact_phone_in_chinese(client, login_as, make_fair, typed):
    fair = make_fair(contact_phone="0571-88886666")
    login_as("organiser")
    response = client.post(f"/manage/fairs/{fair.id}/edit", data={**FAIR_FORM, "contact_phone": typed})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "电话号码不正确" in body or "电话号码最多 20 位" in body
    assert "<script>alert(1)" not in body
    db.session.expire_all()
    assert db.session.get(Fair, fair.id).contact_phone == "0571-88886666"


def test_desk_slip_prints_the_organisers_phone(client, login_as, make_booth, make_fair):
    fair = make_fair(contact_phone="0571-88886666")
    booth = make_booth(fair=fair)
    login_as("organiser")
    response = client.post(f"/manage/fairs/{fair.id}/desk", data={
        "name": "李桂兰", "phone": "139 0013 9000", "consent": "y", "action": "register",
        "vacancy": [booth.vacancies[0].id]})
    slip = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "主办方咨询电话" in slip and "0571-88886666" in slip


def test_desk_slip_without_a_phone_prints_no_empty_line(client, login_as, make_booth):
    booth = make_booth()
    login_as("organiser")
    response = client.post(f"/manage/fairs/{booth.fair_id}/desk", data={
        "name": "李桂兰", "phone": "139 0013 9000", "consent": "y", "action": "register",
        "vacancy": [booth.vacancies[0].id]})
    assert "主办方咨询电话" not in client.get(response.headers["Location"]).get_data(as_text=True)
    assert db.session.scalar(select(Fair.contact_phone).where(Fair.id == booth.fair_id)) == ""
