"""Live sessions (直播带岗): creating and editing them, the running order, the host console,
the viewer page, its SSE stream and its polling fallback."""
from __future__ import annotations

import pytest
from sqlalchemy import event, select

from fairsite import events, pubsub
from fairsite.accounts.models import EMPLOYER, ORGANISER
from fairsite.extensions import db
from fairsite.live.models import LiveItem, LiveSession
from fairsite.live.service import embed_url
from fairsite.vacancies.models import Vacancy


@pytest.fixture
def make_session(app, make_vacancy, make_employer):
    """A session with `n` vacancies (of one employer) in its running order."""

    def make(n: int = 3, employer=None, **kw) -> LiveSession:
        employer = employer or make_employer()
        session = LiveSession(**{"title": "直播带岗 · 电子厂专场", "host_name": "小李", **kw})
        db.session.add(session)
        db.session.flush()
        for i in range(n):
            v = make_vacancy(employer, title=f"岗位{i + 1}", pay_min=4000 + i * 100, pay_max=5000 + i * 100)
            db.session.add(LiveItem(session_id=session.id, vacancy_id=v.id, position=i))
        db.session.commit()
        return session

    return make


def titles(session_id: int) -> list[str]:
    items = db.session.scalars(
        select(LiveItem).where(LiveItem.session_id == session_id).order_by(LiveItem.position)
    ).all()
    return [i.vacancy.title for i in items]


def item_ids(session: LiveSession) -> list[int]:
    db.session.refresh(session)
    return [i.vacancy_id for i in session.items]


# --- creating and editing ------------------------------------------------------------------

def test_create_organiser_makes_a_scheduled_session(client, login_as):
    login_as(ORGANISER)
    response = client.post("/live/new", data={
        "title": "返乡专场直播", "host_name": "小王", "fair_id": "0",
        "scheduled_at": "2026-03-03T10:00", "stream_url": "https://live.douyin.com/12345",
    })
    assert response.status_code == 303
    session = db.session.scalar(select(LiveSession).where(LiveSession.title == "返乡专场直播"))
    assert session.status == "scheduled"
    assert session.scheduled_at.hour == 2  # 10:00 Beijing time is 02:00 UTC
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "返乡专场直播" in page and "节目单" in page


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://example.com/x", "www.douyin.com"])
def test_create_refuses_a_stream_link_that_is_not_http(client, login_as, url):
    login_as(ORGANISER)
    response = client.post("/live/new", data={"title": "直播", "fair_id": "0", "stream_url": url})
    assert response.status_code == 200
    assert "请填写以 http:// 或 https:// 开头的直播间链接" in response.get_data(as_text=True)
    assert db.session.scalar(select(LiveSession)) is None


def test_embed_url_only_for_allowed_hosts():
    assert embed_url("https://player.bilibili.com/player.html?bvid=BV1x") == \
        "https://player.bilibili.com/player.html?bvid=BV1x"
    assert "cid=2233" in embed_url("https://live.bilibili.com/2233")
    assert embed_url("http://v.qq.com/txp/iframe/player.html?vid=a1") == \
        "https://v.qq.com/txp/iframe/player.html?vid=a1"
    assert embed_url("https://live.douyin.com/12345") is None
    assert embed_url("https://player.bilibili.com.evil.cn/player.html") is None
    assert embed_url("javascript:alert(1)") is None
    assert embed_url("https://x@player.bilibili.com:8443/player.html?bvid=B") == \
        "https://player.bilibili.com/player.html?bvid=B"


def test_show_embeds_an_allowed_stream_and_links_any_other(client, make_session):
    embedded = make_session(1, stream_url="https://player.bilibili.com/player.html?bvid=BV1x")
    linked = make_session(1, stream_url="https://live.douyin.com/12345")
    page = client.get(f"/live/{embedded.id}").get_data(as_text=True)
    assert '<iframe src="https://player.bilibili.com/player.html?bvid=BV1x"' in page
    page = client.get(f"/live/{linked.id}").get_data(as_text=True)
    assert "<iframe" not in page
    assert 'href="https://live.douyin.com/12345"' in page and "打开直播间观看" in page


def test_edit_employer_sees_only_own_sessions(client, login_as, make_session, make_employer):
    other = make_session(1)
    employer = make_employer()
    login_as(EMPLOYER, employer=employer)
    assert client.get(f"/live/{other.id}/edit").status_code == 404
    assert client.get(f"/live/{other.id}/host").status_code == 404
    assert client.post(f"/live/{other.id}/start").status_code == 404
    own = make_session(1, employer=employer, employer_id=employer.id)
    assert client.get(f"/live/{own.id}/host").status_code == 200
    listing = client.get("/live/manage").get_data(as_text=True)
    assert f"live-session-{own.id}" in listing and f"live-session-{other.id}" not in listing


def test_create_by_employer_belongs_to_the_employer(client, login_as, make_employer):
    employer = make_employer()
    login_as(EMPLOYER, employer=employer)
    client.post("/live/new", data={"title": "本厂直播", "fair_id": "0"})
    session = db.session.scalar(select(LiveSession).where(LiveSession.title == "本厂直播"))
    assert session.employer_id == employer.id


def test_host_anonymous_is_sent_to_log_in(client, make_session):
    session = make_session(1)
    response = client.get(f"/live/{session.id}/host")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- the running order --------------------------------------------------------------------

def test_add_item_move_and_remove_change_the_running_order(client, hx, login_as, make_session, make_vacancy):
    login_as(ORGANISER)
    session = make_session(2)
    extra = make_vacancy(title="叉车工")
    response = hx.post(f"/live/{session.id}/items", data={"vacancy_id": extra.id})
    assert response.status_code == 200 and "叉车工" in response.get_data(as_text=True)
    assert titles(session.id) == ["岗位1", "岗位2", "叉车工"]
    hx.post(f"/live/{session.id}/items/{extra.id}/move", data={"direction": "up"})
    assert titles(session.id) == ["岗位1", "叉车工", "岗位2"]
    first = item_ids(session)[0]
    hx.post(f"/live/{session.id}/items/{first}/move", data={"direction": "down"})
    assert titles(session.id) == ["叉车工", "岗位1", "岗位2"]
    response = hx.post(f"/live/{session.id}/items/{extra.id}/remove")
    assert titles(session.id) == ["岗位1", "岗位2"]
    assert "叉车工" not in response.get_data(as_text=True).split("添加岗位")[0]


def test_add_item_employer_cannot_add_another_employers_vacancy(client, login_as, make_session,
                                                                make_employer, make_vacancy):
    employer = make_employer()
    login_as(EMPLOYER, employer=employer)
    session = make_session(1, employer=employer, employer_id=employer.id)
    foreign = make_vacancy(title="别家岗位")
    assert client.post(f"/live/{session.id}/items", data={"vacancy_id": foreign.id}).status_code == 404
    own = make_vacancy(employer, title="本厂岗位")
    assert client.post(f"/live/{session.id}/items", data={"vacancy_id": own.id}).status_code == 303
    assert "本厂岗位" in titles(session.id)


def test_candidates_search_lists_vacancies_not_yet_in_the_order(hx, login_as, make_session, make_vacancy):
    login_as(ORGANISER)
    session = make_session(1)
    make_vacancy(title="焊工")
    html = hx.get(f"/live/{session.id}/candidates?q=焊").get_data(as_text=True)
    assert "焊工" in html and "岗位1" not in html


# --- running the session ------------------------------------------------------------------

def test_show_before_start_says_it_has_not_started(client, make_session):
    session = make_session(2)
    page = client.get(f"/live/{session.id}").get_data(as_text=True)
    assert "直播还没有开始" in page
    assert "岗位1" in page and "岗位2" in page  # the running order is there already


def test_present_before_start_is_refused(hx, login_as, make_session):
    login_as(ORGANISER)
    session = make_session(2)
    html = hx.post(f"/live/{session.id}/present", data={"step": "next"}).get_data(as_text=True)
    assert "直播开始后才能切换岗位" in html
    assert db.session.get(LiveSession, session.id).current_vacancy_id is None


def test_present_next_prev_and_pick_move_the_card_for_viewers(client, hx, login_as, make_session):
    login_as(ORGANISER)
    session = make_session(3)
    ids = item_ids(session)
    hx.post(f"/live/{session.id}/start")
    hx.post(f"/live/{session.id}/present", data={"step": "next"})
    assert db.session.get(LiveSession, session.id).current_vacancy_id == ids[0]
    hx.post(f"/live/{session.id}/present", data={"step": "next"})
    console = hx.post(f"/live/{session.id}/present", data={"vacancy_id": ids[2]}).get_data(as_text=True)
    assert "岗位3" in console.split("正在介绍")[1][:300]
    hx.post(f"/live/{session.id}/present", data={"step": "prev"})
    db.session.expire_all()
    assert db.session.get(LiveSession, session.id).current_vacancy_id == ids[1]

    page = client.get(f"/live/{session.id}").get_data(as_text=True)
    card = page.split(f'id="live-card-{session.id}"')[1].split("</section>")[0]
    assert "岗位2" in card and "4,100–5,100 元/月" in card and "我有意向" in card
    order = page.split(f'id="live-order-{session.id}"')[1]
    assert f'live-item-{session.id}-{ids[0]}">' in order
    assert order.count("已介绍 ✓") == 2  # 岗位1 and 岗位3; 岗位2 is the one presented now


def test_end_tells_viewers_it_has_ended(client, hx, login_as, make_session):
    login_as(ORGANISER)
    session = make_session(1)
    hx.post(f"/live/{session.id}/start")
    hx.post(f"/live/{session.id}/present", data={"step": "next"})
    hx.post(f"/live/{session.id}/end")
    page = client.get(f"/live/{session.id}").get_data(as_text=True)
    assert "本场直播已结束" in page and "我有意向" not in page
    html = hx.post(f"/live/{session.id}/start").get_data(as_text=True)
    assert "直播已结束，不能再次开始" in html


def test_remove_item_refuses_the_vacancy_presented_now(hx, login_as, make_session):
    login_as(ORGANISER)
    session = make_session(2)
    hx.post(f"/live/{session.id}/start")
    hx.post(f"/live/{session.id}/present", data={"step": "next"})
    current = db.session.get(LiveSession, session.id).current_vacancy_id
    html = hx.post(f"/live/{session.id}/items/{current}/remove").get_data(as_text=True)
    assert "正在介绍的岗位不能移出节目单" in html
    assert current in item_ids(session)


# --- what viewers receive -----------------------------------------------------------------

def test_present_publishes_the_card_once_to_every_subscriber(app, hx, login_as, make_session):
    login_as(ORGANISER)
    session = make_session(2)
    hx.post(f"/live/{session.id}/start")
    a, b = pubsub.subscribe(f"live:{session.id}"), pubsub.subscribe(f"live:{session.id}")
    try:
        hx.post(f"/live/{session.id}/present", data={"step": "next"})
        got_a = [a.get(timeout=1) for _ in range(3)]
        got_b = [b.get(timeout=1) for _ in range(3)]
    finally:
        a.close()
        b.close()
    assert got_a == got_b  # the same strings: rendered once, not per viewer
    card = next(m for m in got_a if m.startswith("event: card"))
    assert "岗位1" in card and "正在介绍" in card
    # A shared fragment carries nobody's CSRF token (htmx sends each viewer's own in a header).
    assert 'name="csrf_token" value=""' in card and "退出" not in card


def test_events_stream_sends_the_current_state_first_then_changes(app, client, hx, login_as, make_session):
    login_as(ORGANISER)
    session = make_session(2)
    hx.post(f"/live/{session.id}/start")
    hx.post(f"/live/{session.id}/present", data={"step": "next"})
    response = client.get(f"/live/{session.id}/events")
    assert response.mimetype == "text/event-stream"
    chunks = iter(response.response)
    first = [next(chunks) for _ in range(4)]
    text = "".join(c.decode() if isinstance(c, bytes) else c for c in first)
    assert text.startswith(": connected")
    assert "event: card" in text and "岗位1" in text
    assert "event: order" in text and "event: counts" in text
    assert pubsub.subscriber_count(f"live:{session.id}") == 1
    response.close()
    assert pubsub.subscriber_count(f"live:{session.id}") == 0  # cleaned up when the viewer leaves


def test_events_stream_never_queries_the_database_per_message(app, client, hx, login_as, make_session):
    login_as(ORGANISER)
    session = make_session(2)
    hx.post(f"/live/{session.id}/start")
    response = client.get(f"/live/{session.id}/events")
    chunks = iter(response.response)
    next(chunks)
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        pubsub.publish(f"live:{session.id}", "card", "<p>x</p>")
        for chunk in chunks:
            if b"<p>x</p>" in (chunk if isinstance(chunk, bytes) else chunk.encode()):
                break
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
        response.close()
    assert statements == []


def test_events_stream_sends_a_heartbeat(make_session, app, client):
    app.config["SSE_HEARTBEAT"] = 0.05
    session = make_session(1)
    response = client.get(f"/live/{session.id}/events")
    chunks = iter(response.response)
    seen = "".join(next(chunks).decode() for _ in range(6))
    response.close()
    assert ": heartbeat" in seen


def _sign(make_intent, session: LiveSession, vacancy_id: int, phone: str) -> None:
    make_intent(vacancy=db.session.get(Vacancy, vacancy_id), phone=phone, source="live",
                live_session_id=session.id)
    events.intent_changed(None, session.id, None)


def test_intent_changed_publishes_new_counts_to_viewers_and_hosts(app, hx, login_as, make_session, make_intent):
    login_as(ORGANISER)
    session = make_session(2)
    hx.post(f"/live/{session.id}/start")
    hx.post(f"/live/{session.id}/present", data={"step": "next"})
    current = db.session.get(LiveSession, session.id).current_vacancy_id
    viewer, host = pubsub.subscribe(f"live:{session.id}"), pubsub.subscribe(f"live-host:{session.id}")
    try:
        _sign(make_intent, session, current, "13800138001")
        _sign(make_intent, session, current, "13800138002")
        # The first change goes out at once, the second when a second has passed.
        messages = [viewer.get(timeout=3), viewer.get(timeout=3)]
        assert host.get(timeout=3).startswith("event: tally")
    finally:
        viewer.close()
        host.close()
    assert messages[-1].startswith("event: counts")
    assert "<strong>2</strong> 人登记" in messages[-1]
    console = hx.get(f"/live/{session.id}/host").get_data(as_text=True)
    assert f'id="live-total-{session.id}">2<' in console
    assert f'id="live-now-count-{session.id}">2<' in console


def test_console_shows_how_many_viewers_are_connected(hx, login_as, make_session):
    login_as(ORGANISER)
    session = make_session(1)
    subs = [pubsub.subscribe(f"live:{session.id}") for _ in range(3)]
    try:
        html = hx.get(f"/live/{session.id}/host").get_data(as_text=True)
    finally:
        for s in subs:
            s.close()
    assert f'id="live-viewers-{session.id}">3<' in html


# --- the polling fallback -----------------------------------------------------------------

def test_board_answers_304_until_something_changes(client, hx, login_as, make_session, make_intent):
    session = make_session(2)
    first = client.get(f"/live/{session.id}/board", headers={"HX-Request": "true"})
    assert first.status_code == 200 and first.headers["ETag"]
    assert f'id="live-board-{session.id}"' in first.get_data(as_text=True)
    again = client.get(f"/live/{session.id}/board", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    login_as(ORGANISER)
    hx.post(f"/live/{session.id}/start")
    moved = client.get(f"/live/{session.id}/board", headers={"If-None-Match": first.headers["ETag"]})
    assert moved.status_code == 200 and moved.headers["ETag"] != first.headers["ETag"]
    tag = moved.headers["ETag"]
    _sign(make_intent, session, item_ids(session)[0], "13800138003")
    counted = client.get(f"/live/{session.id}/board", headers={"If-None-Match": tag})
    assert counted.status_code == 200 and "<strong>1</strong> 人登记" in counted.get_data(as_text=True)


def test_show_page_polls_only_when_sse_is_not_open(client, make_session):
    session = make_session(1)
    page = client.get(f"/live/{session.id}").get_data(as_text=True)
    assert f'sse-connect="/live/{session.id}/events"' in page
    # static/js/fairsite.js sends fs:poll every 3 s while the stream is not open.
    assert 'hx-trigger="fs:poll" data-poll-offline="3000"' in page
    assert "js/site." in page  # fairsite.js inside the one hashed bundle (fairsite/assets.py)


# --- sharing ------------------------------------------------------------------------------

def test_short_link_and_qr_lead_to_the_viewer_page(client, make_session):
    session = make_session(1)
    response = client.get(f"/l/{session.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/live/{session.id}")
    png = client.get(f"/live/{session.id}/qr.png")
    assert png.mimetype == "image/png" and png.data[:4] == b"\x89PNG"
    assert client.get("/live/999999").status_code == 404


def test_start_as_plain_form_redirects_to_the_console(client, login_as, make_session):
    login_as(ORGANISER)
    session = make_session(2)
    response = client.post(f"/live/{session.id}/start")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/live/{session.id}/host")
    page = client.post(f"/live/{session.id}/present", data={"step": "next"}, follow_redirects=True)
    assert "岗位1" in page.get_data(as_text=True).split("正在介绍")[1][:200]
    client.post(f"/live/{session.id}/end")
    page = client.post(f"/live/{session.id}/start", follow_redirects=True).get_data(as_text=True)
    assert "直播已结束，不能再次开始" in page


def test_create_employer_chooses_among_public_fairs_only(client, login_as, make_fair):
    make_fair(title="内部草稿招聘会", status="draft")
    make_fair(title="公开的招聘会")
    login_as(EMPLOYER)
    page = client.get("/live/new").get_data(as_text=True)
    assert "公开的招聘会" in page and "内部草稿招聘会" not in page


def test_intent_changed_sends_counts_at_most_once_a_second(app, hx, login_as, make_session, make_intent):
    login_as(ORGANISER)
    session = make_session(1)
    hx.post(f"/live/{session.id}/start")
    vacancy_id = item_ids(session)[0]
    viewer = pubsub.subscribe(f"live:{session.id}")
    try:
        for i in range(6):
            _sign(make_intent, session, vacancy_id, f"1380013810{i}")
        got = []
        while (m := viewer.get(timeout=2)) is not None:
            got.append(m)
    finally:
        viewer.close()
    assert len(got) == 2  # at once, then once more a second later
    assert "<strong>6</strong> 人登记" in got[-1]  # nothing lost


def test_show_offers_intent_for_vacancies_already_presented(client, hx, login_as, make_session):
    login_as(ORGANISER)
    session = make_session(2)
    first = item_ids(session)[0]
    hx.post(f"/live/{session.id}/start")
    hx.post(f"/live/{session.id}/present", data={"step": "next"})
    hx.post(f"/live/{session.id}/present", data={"step": "next"})
    order = client.get(f"/live/{session.id}").get_data(as_text=True).split(f'id="live-order-{session.id}"')[1]
    link = f"/intents/sign?vacancy_id={first}&amp;live={session.id}"
    assert link in order
    page = client.get(link.replace("&amp;", "&"))
    assert page.status_code == 200 and "岗位1" in page.get_data(as_text=True)


def test_gunicorn_config_holds_ten_thousand_viewer_streams_per_worker():
    import runpy
    from pathlib import Path

    conf = runpy.run_path(str(Path(__file__).resolve().parents[1] / "gunicorn.conf.py"))
    assert conf["worker_class"] == "gevent"
    assert conf["worker_connections"] >= 10_000
    assert conf["control_socket_disable"] is True


def test_host_events_tell_the_console_when_counts_move(app, client, hx, login_as, make_session, make_employer):
    session = make_session(2)
    assert client.get(f"/live/{session.id}/host/events").status_code == 302  # anonymous: log in
    login_as("employer", employer=make_employer())  # another employer's session: not found
    assert client.get(f"/live/{session.id}/host/events").status_code == 404
    client.post("/logout")
    from flask import g

    g.pop("_login_user", None)
    login_as(ORGANISER)
    response = client.get(f"/live/{session.id}/host/events")
    assert response.mimetype == "text/event-stream"
    chunks = (c.decode() if isinstance(c, bytes) else c for c in response.response)
    assert next(chunks).startswith(": connected")
    events.intent_changed(None, session.id)  # what a signing from the viewer page does after its commit
    assert "event: tally" in next(chunks)
    response.close()


# --- the video platforms stream links may go to ------------------------------------------------

@pytest.mark.parametrize("url", [
    "https://evil.example/live/1",
    "https://live.douyin.com.evil.example/1",
    "https://live.douyin.com@evil.example/1",
    "https://evil.example\\@live.douyin.com/1",
    "https://live.douyin.com:8443/1",
    "https://ｌｉｖｅ.douyin.com/1",
])
def test_create_refuses_a_stream_link_to_a_platform_not_on_the_list(client, login_as, url):
    login_as(ORGANISER)
    response = client.post("/live/new", data={"title": "直播", "fair_id": "0", "stream_url": url})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "不在主办方允许的直播平台名单上" in body or "普通网址" in body
    assert db.session.scalar(select(LiveSession)) is None


def test_platforms_lists_the_default_platforms(client, login_as):
    login_as(ORGANISER)
    assert 'href="/live/manage/platforms"' in client.get("/live/manage").get_data(as_text=True)
    page = client.get("/live/manage/platforms").get_data(as_text=True)
    for host in ("live.douyin.com", "v.kuaishou.com", "channels.weixin.qq.com", "live.bilibili.com",
                 "v.qq.com", "www.huya.com", "www.douyu.com"):
        assert host in page


def test_platforms_edit_changes_which_links_are_accepted(client, login_as):
    login_as(ORGANISER)
    response = client.post("/live/manage/platforms", data={
        "hosts": "LIVE.example.cn\n\n  https://v.douyin.com/abc/  \nlive.example.cn",
    }, follow_redirects=True)
    assert "共 2 个平台域名" in response.get_data(as_text=True)
    ok = client.post("/live/new", data={"title": "新平台直播", "fair_id": "0",
                                        "stream_url": "https://live.example.cn/room/8"})
    assert ok.status_code == 303
    refused = client.post("/live/new", data={"title": "抖音直播", "fair_id": "0",
                                             "stream_url": "https://live.douyin.com/1"})
    assert "“live.douyin.com”不在主办方允许的直播平台名单上" in refused.get_data(as_text=True)
    assert "live.example.cn、v.douyin.com" in refused.get_data(as_text=True)


@pytest.mark.parametrize("hosts", ["live.douyin.com\nnot a host", "javascript:alert(1)", "http://[::1"])
def test_platforms_bad_line_is_explained_and_changes_nothing(client, login_as, hosts):
    login_as(ORGANISER)
    response = client.post("/live/manage/platforms", data={"hosts": hosts})
    assert response.status_code == 422
    assert "不是域名" in response.get_data(as_text=True)
    assert "www.douyu.com" in client.get("/live/manage/platforms").get_data(as_text=True)


def test_platforms_is_for_organisers_only(client, login_as):
    for method in ("GET", "POST"):
        response = client.open("/live/manage/platforms", method=method, data={"hosts": "evil.example"})
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    login_as(EMPLOYER)
    for method in ("GET", "POST"):
        assert client.open("/live/manage/platforms", method=method, data={"hosts": "evil.example"}).status_code == 404


def test_show_never_links_a_platform_taken_off_the_list(client, login_as, make_session):
    session = make_session(1, stream_url="https://player.bilibili.com/player.html?bvid=BV1x")
    assert "player.bilibili.com" in client.get(f"/live/{session.id}").get_data(as_text=True)
    login_as(ORGANISER)
    client.post("/live/manage/platforms", data={"hosts": "live.douyin.com"})
    page = client.get(f"/live/{session.id}").get_data(as_text=True)
    assert "player.bilibili.com" not in page and "<iframe" not in page and "打开直播间观看" not in page


def test_show_never_links_a_stored_link_to_another_host(client, make_session):
    # Saved before the list existed (or written around the form): still never linked.
    session = make_session(1, stream_url="https://evil.example/live")
    page = client.get(f"/live/{session.id}").get_data(as_text=True)
    assert "evil.example" not in page


# --- organisers take a session down (下线) -----------------------------------------------------

def test_take_down_hides_the_session_from_the_public_and_bring_back_restores_it(app, client, hx, login_as, make_session):
    from flask import g

    session = make_session(2)
    vacancy_id = item_ids(session)[0]
    login_as(ORGANISER)
    hx.post(f"/live/{session.id}/start")
    hx.post(f"/live/{session.id}/present", data={"step": "next"})
    public = app.test_client()
    public_urls = (f"/live/{session.id}", f"/l/{session.id}", f"/live/{session.id}/board",
                   f"/live/{session.id}/events", f"/live/{session.id}/qr.png",
                   f"/intents/sign?vacancy_id={vacancy_id}&live={session.id}")

    response = client.post(f"/live/{session.id}/take-down", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "已下线" in page and "重新上线" in page
    g.pop("_login_user", None)
    for url in public_urls:
        assert public.get(url).status_code == 404, url
    g.pop("_login_user", None)  # the tests share one app context: back to the organiser
    # Viewers still connected are told; the host console says so too.
    card = next(m for m in pubsub.retained(f"live:{session.id}") if m.startswith("event: card"))
    assert "本场直播已下线" in card and "岗位1" not in card
    assert "已被主办方下线" in client.get(f"/live/{session.id}/host").get_data(as_text=True)

    client.post(f"/live/{session.id}/bring-back")
    g.pop("_login_user", None)
    page = public.get(f"/live/{session.id}")
    assert page.status_code == 200 and "岗位1" in page.get_data(as_text=True)
    assert public.get(f"/live/{session.id}/board").status_code == 200
    from fairsite.audit.models import AuditEntry

    assert [e.action for e in db.session.query(AuditEntry).order_by(AuditEntry.id)
            if e.action.startswith("live.")] == ["live.take_down", "live.bring_back"]


def test_take_down_is_for_organisers_only(client, login_as, make_session, make_employer):
    employer = make_employer()
    session = make_session(1, employer=employer, employer_id=employer.id)
    login_as(EMPLOYER, employer=employer)  # the employer's own session: still not its call
    for action in ("take-down", "bring-back"):
        assert client.post(f"/live/{session.id}/{action}").status_code == 404
    db.session.expire_all()
    assert not db.session.get(LiveSession, session.id).taken_down
    assert "下线" not in client.get("/live/manage").get_data(as_text=True)


def test_start_refuses_a_session_taken_down(client, hx, login_as, make_session):
    session = make_session(1)
    login_as(ORGANISER)
    client.post(f"/live/{session.id}/take-down")
    response = hx.post(f"/live/{session.id}/start")
    assert "已被主办方下线，不能开始" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(LiveSession, session.id).status == "scheduled"
