"""Organisers manage fairs: create, edit, move through draft -> published -> open -> closed.
Employers cannot reach any organiser page."""

from fairsite.extensions import db
from fairsite.fairs.models import Fair

FAIR_FORM = {
    "title": "2026 民营企业招聘周 · 专场", "kind": "special", "campaign": "民营企业招聘周",
    "venue": "区人力资源市场", "date": "2026-05-12", "opens_at": "09:00", "closes_at": "12:00",
    "description": "本地民营企业专场。",
}


def test_login_organiser_lands_on_fairs_list(client, make_user):
    user = make_user("organiser")
    response = client.post("/login", data={"login": user.login, "password": "correct horse battery"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/manage/fairs")


def test_manage_index_lists_every_fair_including_drafts(client, login_as, make_fair):
    make_fair(title="还在筹备的草稿", status="draft")
    make_fair(title="已经结束的夜市", status="closed", kind="night")
    login_as("organiser")
    page = client.get("/manage/fairs").get_data(as_text=True)
    assert "还在筹备的草稿" in page and "已经结束的夜市" in page
    assert "草稿" in page and "已结束" in page


def test_manage_create_makes_a_draft_fair(client, login_as):
    login_as("organiser")
    response = client.post("/manage/fairs/new", data=FAIR_FORM)
    assert response.status_code == 303
    fair = db.session.scalar(db.select(Fair).where(Fair.title == FAIR_FORM["title"]))
    assert fair.status == "draft" and fair.kind == "special" and fair.campaign == "民营企业招聘周"
    assert fair.opens_at.hour == 9 and fair.closes_at.hour == 12
    # A draft is not public.
    client.post("/logout")
    assert client.get(f"/fairs/{fair.id}").status_code == 404


def test_manage_create_errors_are_chinese(client, login_as):
    login_as("organiser")
    response = client.post("/manage/fairs/new", data={**FAIR_FORM, "title": "", "date": "明天",
                                                      "opens_at": "15:00", "closes_at": "09:00"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "请填写招聘会名称" in page
    assert "日期格式不正确" in page
    assert "结束时间应晚于开始时间" in page


def test_manage_edit_changes_details(client, login_as, make_fair):
    fair = make_fair(title="旧名称")
    login_as("organiser")
    assert "旧名称" in client.get(f"/manage/fairs/{fair.id}/edit").get_data(as_text=True)
    response = client.post(f"/manage/fairs/{fair.id}/edit", data={**FAIR_FORM, "title": "新名称"})
    assert response.status_code == 303
    db.session.refresh(fair)
    assert fair.title == "新名称" and fair.venue == "区人力资源市场"


def test_manage_status_moves_through_life_cycle(client, hx, login_as, make_fair):
    fair = make_fair(status="draft")
    login_as("organiser")
    for target in ("published", "open", "closed"):
        response = hx.post(f"/manage/fairs/{fair.id}/status", data={"to": target})
        assert response.status_code == 200
        assert f'id="fair-status-{fair.id}"' in response.get_data(as_text=True)
        db.session.refresh(fair)
        assert fair.status == target
    # No jumping back to draft from closed.
    assert client.post(f"/manage/fairs/{fair.id}/status", data={"to": "draft"}).status_code == 400


def test_manage_status_closed_fair_page_says_so_and_takes_no_intents(client, login_as, make_fair):
    fair = make_fair(status="open")
    login_as("organiser")
    client.post(f"/manage/fairs/{fair.id}/status", data={"to": "closed"})
    db.session.refresh(fair)
    assert not fair.takes_intents
    assert "本场招聘会已结束" in client.get(f"/fairs/{fair.id}").get_data(as_text=True)


def test_manage_status_closed_booth_page_says_so(client, login_as, make_booth):
    booth = make_booth()
    login_as("organiser")
    client.post(f"/manage/fairs/{booth.fair_id}/status", data={"to": "closed"})
    client.post("/logout")
    page = client.get(f"/q/{booth.token}")
    assert page.status_code == 200
    assert "结束" in page.get_data(as_text=True)
    assert "我有意向" not in page.get_data(as_text=True)


ORGANISER_PAGES = [
    "/manage/fairs", "/manage/fairs/new", "/manage/fairs/{fair}", "/manage/fairs/{fair}/edit",
    "/manage/fairs/{fair}/booths", "/manage/fairs/{fair}/posters", "/manage/fairs/{fair}/board",
    "/manage/fairs/{fair}/board/tally", "/manage/fairs/{fair}/board/stream",
    "/manage/fairs/{fair}/desk", "/manage/fairs/{fair}/desk/vacancies",
    "/manage/fairs/{fair}/report", "/manage/fairs/{fair}/report.xlsx",
]
ORGANISER_POSTS = [
    "/manage/fairs/new", "/manage/fairs/{fair}/edit", "/manage/fairs/{fair}/status",
    "/manage/booths/{booth}/approve", "/manage/booths/{booth}/reject",
    "/manage/fairs/{fair}/booths/approve-all", "/manage/fairs/{fair}/desk",
]


def test_organiser_pages_are_404_for_employers(client, login_as, make_booth):
    booth = make_booth(status="applied")
    login_as("employer")
    for url in ORGANISER_PAGES:
        assert client.get(url.format(fair=booth.fair_id, booth=booth.id)).status_code == 404, url
    for url in ORGANISER_POSTS:
        assert client.post(url.format(fair=booth.fair_id, booth=booth.id), data={"to": "closed"}).status_code == 404, url
    db.session.refresh(booth)
    assert booth.status == "applied" and booth.fair.status == "open"


def test_organiser_pages_send_anonymous_visitors_to_login(client, make_fair):
    fair = make_fair()
    response = client.get(f"/manage/fairs/{fair.id}/board")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_organiser_pages_open_for_organisers(client, login_as, make_booth):
    booth = make_booth()
    login_as("organiser")
    for url in ORGANISER_PAGES:
        if url.endswith("/stream"):
            continue
        response = client.get(url.format(fair=booth.fair_id, booth=booth.id))
        assert response.status_code == 200, url
