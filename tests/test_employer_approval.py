"""A self-registered employer is pending until an organiser approves it: until then its booths
cannot be approved and nothing it wrote (vacancies, live sessions) reaches the public."""
from __future__ import annotations

from flask import g
from sqlalchemy import select

from fairsite.audit.models import AuditEntry
from fairsite.booths.models import Booth
from fairsite.employers.models import Employer
from fairsite.extensions import db
from fairsite.live.models import LiveItem, LiveSession
from tests.test_accounts import register_data


def fresh(client):
    g.pop("_login_user", None)  # the tests share one app context across requests
    return client


def test_register_makes_a_pending_employer_that_sees_why(client):
    response = client.post("/register", data=register_data(), follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "等待主办方审核" in page
    assert db.session.scalar(select(Employer)).status == "pending"


def test_dashboard_of_an_approved_employer_has_no_notice(client, login_as):
    login_as("employer")
    assert "等待主办方审核" not in fresh(client).get("/employer").get_data(as_text=True)


def test_manage_employers_lists_pending_and_approves(app, client, login_as, make_employer, make_user):
    pending = make_employer(name="待审核电子有限公司", status="pending")
    staff = make_user("employer", employer=pending)
    make_employer(name="老牌机械有限公司")
    login_as("organiser")
    home = fresh(client).get("/manage/fairs").get_data(as_text=True)
    assert 'href="/manage/employers"' in home and "企业审核" in home
    page = fresh(client).get("/manage/employers").get_data(as_text=True)
    assert "待审核电子有限公司" in page and pending.credit_code in page and staff.login in page
    assert "老牌机械有限公司" not in page  # approved long ago: nothing to decide

    response = fresh(client).post(f"/manage/employers/{pending.id}/approve")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Employer, pending.id).is_approved
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "employer.approve"))
    assert (entry.obj_type, entry.obj_id, entry.role) == ("employer", pending.id, "organiser")
    assert "没有待审核的企业" in fresh(client).get("/manage/employers").get_data(as_text=True)

    other = app.test_client()
    fresh(other).post("/login", data={"login": staff.login, "password": "correct horse battery"})
    assert "等待主办方审核" not in fresh(other).get("/employer").get_data(as_text=True)


def test_manage_employers_approve_with_htmx_swaps_the_row(hx, login_as, make_employer):
    pending = make_employer(status="pending")
    login_as("organiser")
    response = fresh(hx).post(f"/manage/employers/{pending.id}/approve")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="manage-employer-{pending.id}"' in body and "已通过" in body


def test_manage_employers_is_for_organisers_only(client, login_as, make_employer):
    pending = make_employer(status="pending")
    for method, url in (("GET", "/manage/employers"), ("POST", f"/manage/employers/{pending.id}/approve")):
        response = client.open(url, method=method)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    login_as("employer")
    for method, url in (("GET", "/manage/employers"), ("POST", f"/manage/employers/{pending.id}/approve")):
        assert fresh(client).open(url, method=method).status_code == 404
    db.session.expire_all()
    assert db.session.get(Employer, pending.id).status == "pending"


def test_manage_employers_approve_unknown_is_404(client, login_as):
    login_as("organiser")
    assert fresh(client).post("/manage/employers/999999/approve").status_code == 404


def test_approve_booth_of_pending_employer_is_refused(client, hx, login_as, make_booth, make_employer):
    employer = make_employer(status="pending")
    booth = make_booth(employer=employer, status="applied")
    login_as("organiser")
    listing = fresh(client).get(f"/manage/fairs/{booth.fair_id}/booths").get_data(as_text=True)
    assert "企业待审核" in listing
    response = fresh(hx).post(f"/manage/booths/{booth.id}/approve", data={"zone": "A"})
    assert response.status_code == 200  # the row, with the reason, for htmx
    assert "还没有通过审核" in response.get_data(as_text=True)
    response = fresh(client).post(f"/manage/booths/{booth.id}/approve", data={"zone": "A"})
    assert response.status_code == 422 and "还没有通过审核" in response.get_data(as_text=True)
    db.session.refresh(booth)
    assert (booth.status, booth.number) == ("applied", None)

    fresh(client).post(f"/manage/employers/{employer.id}/approve")
    assert fresh(client).post(f"/manage/booths/{booth.id}/approve", data={"zone": "A"}).status_code == 303
    db.session.refresh(booth)
    assert booth.status == "approved"


def test_approve_all_leaves_pending_employers_applications(client, login_as, make_fair, make_booth, make_employer):
    fair = make_fair()
    ready = make_booth(fair=fair, status="applied")
    waiting = make_booth(fair=fair, employer=make_employer(status="pending"), status="applied")
    login_as("organiser")
    response = fresh(client).post(f"/manage/fairs/{fair.id}/booths/approve-all", data={"zone": "A"},
                                  follow_redirects=True)
    assert "有 1 家企业还没有通过审核" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Booth, ready.id).status == "approved"
    assert db.session.get(Booth, waiting.id).status == "applied"


def test_public_pages_never_show_a_pending_employers_vacancies(client, make_fair, make_booth, make_employer, make_vacancy):
    fair = make_fair()
    employer = make_employer(name="未审核食品有限公司", status="pending")
    # A state the site no longer allows (an approved booth of a pending employer): even then.
    hidden = make_booth(fair=fair, employer=employer,
                        vacancies=[make_vacancy(employer, title="不该出现的岗位")])
    shown = make_booth(fair=fair, vacancies=[make_vacancy(title="正常的岗位")])
    page = client.get(f"/fairs/{fair.id}").get_data(as_text=True)
    assert "正常的岗位" in page
    assert "不该出现的岗位" not in page and "未审核食品有限公司" not in page
    assert client.get(f"/q/{hidden.token}").status_code == 404
    assert client.get(f"/q/{shown.token}").status_code == 200


def _employer_session(employer, vacancy) -> LiveSession:
    session = LiveSession(title="企业自办直播", employer_id=employer.id)
    db.session.add(session)
    db.session.flush()
    db.session.add(LiveItem(session_id=session.id, vacancy_id=vacancy.id, position=0))
    db.session.commit()
    return session


def test_pending_employer_cannot_start_a_public_live_session(app, client, login_as, make_employer, make_vacancy):
    employer = make_employer(status="pending")
    session = _employer_session(employer, make_vacancy(employer))
    login_as("employer", employer=employer)
    console = fresh(client).get(f"/live/{session.id}/host").get_data(as_text=True)
    assert "等待主办方审核" in console
    response = fresh(client).post(f"/live/{session.id}/start", follow_redirects=True)
    assert "企业通过主办方审核后才能开始直播" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(LiveSession, session.id).status == "scheduled"
    public = app.test_client()
    for url in (f"/live/{session.id}", f"/l/{session.id}", f"/live/{session.id}/board",
                f"/live/{session.id}/events", f"/live/{session.id}/qr.png"):
        assert fresh(public).get(url).status_code == 404, url

    employer.status = "approved"
    db.session.commit()
    assert fresh(public).get(f"/live/{session.id}").status_code == 200
    assert fresh(client).post(f"/live/{session.id}/start").status_code == 303
    db.session.expire_all()
    assert db.session.get(LiveSession, session.id).status == "live"


def test_organiser_session_offers_no_pending_employers_vacancies(client, login_as, make_employer, make_vacancy):
    pending = make_vacancy(make_employer(status="pending"), title="待审核企业的岗位")
    make_vacancy(title="已审核企业的岗位")
    login_as("organiser")
    session = LiveSession(title="主办方直播")
    db.session.add(session)
    db.session.commit()
    page = fresh(client).get(f"/live/{session.id}/edit").get_data(as_text=True)
    assert "已审核企业的岗位" in page and "待审核企业的岗位" not in page
    assert fresh(client).post(f"/live/{session.id}/items", data={"vacancy_id": pending.id}).status_code == 404


def test_register_is_throttled_per_address(app, client):
    app.config["REGISTER_RATE_LIMIT"] = "2 per hour"
    codes = [fresh(client).post("/register", data=register_data(name="")).status_code for _ in range(3)]
    assert codes == [422, 422, 429]
    assert "操作太频繁" in fresh(client).post("/register", data=register_data()).get_data(as_text=True)
    assert db.session.scalar(select(Employer)) is None
    # Another address is not held up.
    other = fresh(app.test_client())
    response = other.post("/register", data=register_data(), environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert response.status_code == 303
