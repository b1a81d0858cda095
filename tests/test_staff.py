"""Staff accounts and roles as their users meet them: the organiser admin's /manage/staff page
(invite with a first password shown once, role change, switch off, never no admin left), the
employer's staff page with roles, and booth staff who see masked numbers and no export."""
from __future__ import annotations

import re

import pytest
from flask import g

from fairsite.accounts.models import ADMIN, BOOTH, DESK, EMPLOYER, ORGANISER, VIEWER, User
from fairsite.audit.models import AuditEntry
from fairsite.extensions import db
from fairsite.intents.models import Intent
from tests.conftest import PASSWORD


def _fresh(user_id: int) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


def _audit(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return db.session.query(AuditEntry).filter_by(action=action).all()


def _log_in(client, login: str, password: str = PASSWORD):
    g.pop("_login_user", None)  # the tests share one app context across requests
    return client.post("/login", data={"login": login, "password": password})


def _second_client(app, user: User, password: str = PASSWORD):
    """Another browser, logged in as `user`."""
    other = app.test_client()
    assert _log_in(other, user.login, password).status_code == 303
    g.pop("_login_user", None)
    return other


def _still_in(client, url: str) -> bool:
    g.pop("_login_user", None)
    response = client.get(url)
    return not (response.status_code == 302 and "/login" in response.headers["Location"])


# --- the organiser admin's staff page ---------------------------------------------------

def test_index_lists_organiser_staff_with_roles(client, login_as, make_user):
    admin = login_as(ORGANISER)
    make_user(ORGANISER, name="服务台小王", staff_role=DESK)
    make_user(EMPLOYER, name="企业人事")
    page = client.get("/manage/staff").get_data(as_text=True)
    assert "服务台小王" in page and "服务台" in page and admin.login in page
    assert "企业人事" not in page  # employer staff are their employer's business
    assert "当前账号" in page


def test_invite_shows_first_password_once_and_forces_a_change(client, app, login_as):
    admin = login_as(ORGANISER)
    response = client.post("/manage/staff", data={"name": "服务台 小李", "login": " Desk.Li@Bureau.cn ",
                                                   "staff_role": DESK})
    assert response.status_code == 201
    page = response.get_data(as_text=True)
    password = re.search(r'class="password-once">([^<]+)<', page).group(1)
    assert len(password) == 12 and "只显示这一次" in page
    invited = db.session.query(User).filter_by(login="desk.li@bureau.cn").one()
    assert (invited.role, invited.staff_role, invited.must_change_password) == (ORGANISER, DESK, True)
    assert password not in invited.password_hash
    entry = _audit("account.create")[0]
    assert (entry.user_id, entry.obj_id) == (admin.id, invited.id)
    assert password not in client.get("/manage/staff").get_data(as_text=True)  # once only

    # The colleague logs in with it and must choose their own before anything else.
    other = app.test_client()
    response = _log_in(other, "desk.li@bureau.cn", password)
    assert response.status_code == 303 and response.headers["Location"].endswith("/account/password")
    g.pop("_login_user", None)
    response = other.get("/manage/fairs")
    assert response.status_code == 303 and response.headers["Location"].endswith("/account/password")
    g.pop("_login_user", None)
    response = other.post("/account/password", data={"current": password, "password": "my-own-password",
                                                      "confirm": "my-own-password"})
    assert response.status_code == 303
    assert not _fresh(invited.id).must_change_password
    g.pop("_login_user", None)
    assert other.get("/manage/fairs").status_code == 200
    g.pop("_login_user", None)
    assert other.get("/manage/staff").status_code == 403  # desk staff do not run the staff


@pytest.mark.parametrize("data, message", [
    ({"name": "", "login": "a@b.cn", "staff_role": DESK}, "请填写姓名"),
    ({"name": "甲", "login": "", "staff_role": DESK}, "请填写登录账号"),
    ({"name": "甲", "login": "\x00\u200b ", "staff_role": DESK}, "请填写登录账号"),
    ({"name": "甲", "login": "a@b.cn", "staff_role": "root"}, ""),
    ({"name": "甲", "login": "a@b.cn", "staff_role": BOOTH}, ""),  # an employer role
    ({"name": "甲" * 61, "login": "a@b.cn", "staff_role": DESK}, ""),
    ({"name": "甲", "login": "x" * 121, "staff_role": DESK}, ""),
])
def test_invite_refuses_hostile_input(client, login_as, data, message):
    login_as(ORGANISER)
    before = db.session.query(User).count()
    response = client.post("/manage/staff", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.query(User).count() == before
    assert _audit("account.create") == []


def test_invite_refuses_a_login_that_exists(client, login_as, make_user):
    login_as(ORGANISER)
    taken = make_user(EMPLOYER)
    response = client.post("/manage/staff", data={"name": "甲", "login": taken.login.upper(), "staff_role": VIEWER})
    assert response.status_code == 422 and "已经存在" in response.get_data(as_text=True)


def test_role_change_ends_the_colleagues_sessions_and_is_audited(app, client, login_as, make_user, make_fair):
    login_as(ORGANISER)
    fair = make_fair()
    colleague = make_user(ORGANISER, staff_role=DESK, name="小王")
    other = _second_client(app, colleague)
    assert other.get(f"/manage/fairs/{fair.id}/desk").status_code == 200
    g.pop("_login_user", None)
    response = client.post(f"/manage/staff/{colleague.id}/role", data={"staff_role": VIEWER})
    assert response.status_code == 303
    assert _fresh(colleague.id).staff_role == VIEWER
    assert not _still_in(other, f"/manage/fairs/{fair.id}/board")  # logged out everywhere
    assert "desk→viewer" in _audit("account.role")[0].detail
    # Logged in again, the viewer reads the board and the report but not the desk.
    other = _second_client(app, colleague)
    assert other.get(f"/manage/fairs/{fair.id}/report").status_code == 200
    g.pop("_login_user", None)
    assert other.get(f"/manage/fairs/{fair.id}/desk").status_code == 403


def test_same_role_again_changes_nothing(client, login_as, make_user):
    login_as(ORGANISER)
    colleague = make_user(ORGANISER, staff_role=DESK)
    token = colleague.session_token
    assert client.post(f"/manage/staff/{colleague.id}/role", data={"staff_role": DESK}).status_code == 303
    assert _fresh(colleague.id).session_token == token
    assert _audit("account.role") == []


@pytest.mark.parametrize("value", ["", "root", "booth", "admin' OR 1=1 --", "管理员", "a" * 5000])
def test_role_change_refuses_hostile_roles(client, login_as, make_user, value):
    login_as(ORGANISER)
    colleague = make_user(ORGANISER, staff_role=DESK)
    response = client.post(f"/manage/staff/{colleague.id}/role", data={"staff_role": value}, follow_redirects=True)
    assert response.status_code == 200 and "请选择一个角色" in response.get_data(as_text=True)
    assert _fresh(colleague.id).staff_role == DESK
    assert _audit("account.role") == []


def test_switch_off_ends_sessions_and_switch_on_again(app, client, login_as, make_user):
    login_as(ORGANISER)
    colleague = make_user(ORGANISER, staff_role=VIEWER, name="小赵")
    other = _second_client(app, colleague)
    response = client.post(f"/manage/staff/{colleague.id}/active", data={"active": "0"}, follow_redirects=True)
    assert "已停用 小赵 的账号" in response.get_data(as_text=True)
    assert not _fresh(colleague.id).active
    assert not _still_in(other, "/manage/fairs")
    assert _log_in(app.test_client(), colleague.login).status_code == 422  # cannot log in
    g.pop("_login_user", None)
    client.post(f"/manage/staff/{colleague.id}/active", data={"active": "1"})
    assert _fresh(colleague.id).active
    assert [e.action for e in _audit("account.deactivate") + _audit("account.activate")] == [
        "account.deactivate", "account.activate"]


def test_the_last_admin_cannot_lock_the_bureau_out(client, login_as):
    admin = login_as(ORGANISER)
    response = client.post(f"/manage/staff/{admin.id}/role", data={"staff_role": DESK}, follow_redirects=True)
    assert "至少要保留一个在用的管理员账号" in response.get_data(as_text=True)
    response = client.post(f"/manage/staff/{admin.id}/active", data={"active": "0"}, follow_redirects=True)
    assert "不能停用自己正在使用的账号" in response.get_data(as_text=True)
    admin = _fresh(admin.id)
    assert (admin.staff_role, admin.active) == (ADMIN, True)
    assert _audit("account.role") == [] and _audit("account.deactivate") == []
    g.pop("_login_user", None)
    assert client.get("/manage/staff").status_code == 200


def test_an_admin_may_step_down_when_another_admin_remains(client, login_as, make_user):
    admin = login_as(ORGANISER)
    make_user(ORGANISER, staff_role=ADMIN)
    response = client.post(f"/manage/staff/{admin.id}/role", data={"staff_role": VIEWER})
    assert response.status_code == 303 and response.headers["Location"].endswith("/manage/fairs")
    assert _fresh(admin.id).staff_role == VIEWER
    g.pop("_login_user", None)
    assert client.get("/manage/fairs").status_code == 200  # this session goes on, as a viewer
    g.pop("_login_user", None)
    assert client.get("/manage/staff").status_code == 403


def test_a_switched_off_admin_does_not_count_as_the_one_left(client, login_as, make_user):
    admin = login_as(ORGANISER)
    make_user(ORGANISER, staff_role=ADMIN, active=False)
    client.post(f"/manage/staff/{admin.id}/role", data={"staff_role": DESK})
    assert _fresh(admin.id).staff_role == ADMIN


def test_staff_changes_reach_only_organiser_logins(client, login_as, make_user):
    login_as(ORGANISER)
    employer_staff = make_user(EMPLOYER)
    for url in (f"/manage/staff/{employer_staff.id}/role", f"/manage/staff/{employer_staff.id}/active",
                "/manage/staff/999999/role", "/manage/staff/2147483648/active", "/manage/staff/%D9%A1/role"):
        assert client.post(url, data={"staff_role": DESK, "active": "0"}).status_code == 404, url
    assert _fresh(employer_staff.id).active and _fresh(employer_staff.id).staff_role == ADMIN


@pytest.mark.parametrize("staff_role", [DESK, VIEWER])
def test_desk_and_viewer_cannot_manage_staff(client, login_as, make_user, staff_role):
    login_as(ORGANISER, staff_role=staff_role)
    colleague = make_user(ORGANISER, staff_role=VIEWER)
    assert client.get("/manage/staff").status_code == 403
    assert client.post("/manage/staff", data={"name": "x", "login": "x@y.cn", "staff_role": ADMIN}).status_code == 403
    assert client.post(f"/manage/staff/{colleague.id}/role", data={"staff_role": ADMIN}).status_code == 403
    assert _fresh(colleague.id).staff_role == VIEWER
    assert "/manage/staff" not in client.get("/manage/fairs").get_data(as_text=True)


# --- the employer's staff page ----------------------------------------------------------

def test_employer_admin_adds_booth_staff_and_changes_roles(app, client, login_as, make_user):
    admin = login_as(EMPLOYER)
    response = client.post("/employer/staff", data={"name": "展位小陈", "login": "chen@firm.cn",
                                                    "password": "long-enough-pw", "staff_role": BOOTH})
    assert response.status_code == 303
    chen = db.session.query(User).filter_by(login="chen@firm.cn").one()
    assert (chen.employer_id, chen.staff_role) == (admin.employer_id, BOOTH)
    page = client.get("/employer/staff").get_data(as_text=True)
    assert "展位人员" in page and "展位小陈" in page
    other = _second_client(app, chen, "long-enough-pw")
    g.pop("_login_user", None)
    assert client.post(f"/employer/staff/{chen.id}/role", data={"staff_role": ADMIN}).status_code == 303
    assert _fresh(chen.id).staff_role == ADMIN
    assert not _still_in(other, "/employer")
    assert "booth→admin" in _audit("account.role")[0].detail
    for value in ("desk", "viewer", "", "x" * 300):  # organiser roles are not the firm's to give
        client.post(f"/employer/staff/{chen.id}/role", data={"staff_role": value})
        assert _fresh(chen.id).staff_role == ADMIN


def test_employer_staff_form_refuses_an_unknown_role(client, login_as):
    login_as(EMPLOYER)
    response = client.post("/employer/staff", data={"name": "甲", "login": "jia@firm.cn",
                                                    "password": "long-enough-pw", "staff_role": "viewer"})
    assert response.status_code == 422
    assert db.session.query(User).filter_by(login="jia@firm.cn").count() == 0


def test_employer_keeps_an_admin(client, login_as, make_user):
    admin = login_as(EMPLOYER)
    client.post(f"/employer/staff/{admin.id}/role", data={"staff_role": BOOTH})
    assert _fresh(admin.id).staff_role == ADMIN
    # Another firm's admin does not count.
    make_user(EMPLOYER, staff_role=ADMIN)
    response = client.post(f"/employer/staff/{admin.id}/role", data={"staff_role": BOOTH}, follow_redirects=True)
    assert "至少要保留一个在用的管理员账号" in response.get_data(as_text=True)
    assert _fresh(admin.id).staff_role == ADMIN


def test_employer_role_change_of_another_firms_login_is_404(client, login_as, make_user):
    login_as(EMPLOYER)
    stranger = make_user(EMPLOYER, staff_role=BOOTH)
    assert client.post(f"/employer/staff/{stranger.id}/role", data={"staff_role": ADMIN}).status_code == 404
    assert _fresh(stranger.id).staff_role == BOOTH


# --- booth staff ----------------------------------------------------------------------------

@pytest.fixture
def booth_staff(client, login_as, make_user, make_booth, make_intent):
    booth = make_booth(vacancies=1)
    intent = make_intent(booth, name="李四", phone="13912345678")
    user = login_as(EMPLOYER, employer=booth.employer, staff_role=BOOTH)
    return user, intent


def test_booth_staff_see_masked_phones_without_reveal_or_export(client, booth_staff):
    _user, intent = booth_staff
    page = client.get("/employer/intents").get_data(as_text=True)
    assert "李四" in page and "139****5678" in page
    assert "13912345678" not in page
    assert "/reveal" not in page and "/employer/intents/export" not in page
    assert client.post(f"/employer/intents/{intent.id}/reveal").status_code == 403
    for fmt in ("csv", "xlsx"):
        response = client.post("/employer/intents/export", data={"format": fmt})
        assert response.status_code == 403 and b"13912345678" not in response.data
    assert _audit("phone.reveal") == [] and _audit("intents.export") == []


def test_booth_staff_update_statuses_and_notes(client, booth_staff):
    _user, intent = booth_staff
    response = client.post(f"/employer/intents/{intent.id}/status", data={"status": "contacted", "note": "周三面试"})
    assert response.status_code == 303
    db.session.expire_all()
    saved = db.session.get(Intent, intent.id)
    assert (saved.status, saved.note) == ("contacted", "周三面试")


def test_booth_staff_have_no_staff_page_profile_or_vacancy_edits(client, booth_staff, make_fair):
    user, _intent = booth_staff
    dashboard = client.get("/employer").get_data(as_text=True)
    assert "展位人员" in dashboard
    assert "/employer/staff" not in dashboard and "/employer/profile" not in dashboard
    assert client.get("/employer/staff").status_code == 403
    assert client.get("/employer/profile").status_code == 403
    vacancies = client.get("/employer/vacancies").get_data(as_text=True)
    assert "添加岗位" not in vacancies and "/edit" not in vacancies
    assert client.post("/employer/vacancies", data={"title": "x"}).status_code == 403
    assert client.get(f"/employer/booths/apply/{make_fair().id}").status_code == 403


def test_employer_admin_still_sees_reveal_and_export(client, login_as, make_booth, make_intent):
    booth = make_booth(vacancies=1)
    make_intent(booth, name="王五", phone="13712345678")
    login_as(EMPLOYER, employer=booth.employer)
    page = client.get("/employer/intents").get_data(as_text=True)
    assert "/reveal" in page and "/employer/intents/export" in page


def test_command_line_brings_a_locked_out_bureau_back(app, client, make_user):
    """No admin can log in (switched off, or stepped down): create-organiser makes the login an
    active admin again, with the new password."""
    chief = make_user(ORGANISER, staff_role=VIEWER, active=False)
    result = app.test_cli_runner().invoke(args=["create-organiser", chief.login],
                                          input="s3cret-pass\ns3cret-pass\n")
    assert result.exit_code == 0, result.output
    chief = _fresh(chief.id)
    assert (chief.staff_role, chief.active) == (ADMIN, True)
    assert _log_in(client, chief.login, "s3cret-pass").status_code == 303
    g.pop("_login_user", None)
    assert client.get("/manage/staff").status_code == 200


def test_demo_has_a_login_for_every_role(app, make_user, password_hash):
    from fairsite.demo import EMPLOYER_LOGIN, ROLE_LOGINS, _add_role_logins

    hr = make_user(EMPLOYER, login=EMPLOYER_LOGIN)
    for _twice in range(2):  # a demo built before the roles gets them, once
        _add_role_logins()
        db.session.commit()
    logins = [login for _label, _kind, _role, login, _password, _name in ROLE_LOGINS]
    users = db.session.query(User).filter(User.login.in_(logins)).all()
    assert sorted((u.role, u.staff_role) for u in users) == [
        (EMPLOYER, BOOTH), (ORGANISER, DESK), (ORGANISER, VIEWER)]
    assert [u.employer_id for u in users if u.role == EMPLOYER] == [hr.employer_id]
