"""Employer profile, staff logins, dashboard, booth applications and posters."""
from flask import g

from fairsite.accounts.models import User
from fairsite.audit.models import AuditEntry
from fairsite.booths.models import Booth
from fairsite.extensions import db
from tests.conftest import PASSWORD


def test_login_sends_employer_to_dashboard(client, make_user):
    user = make_user("employer")
    response = client.post("/login", data={"login": user.login, "password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/employer")
    page = client.get("/employer").get_data(as_text=True)
    assert user.employer.name in page
    assert "最新报名" in page


def test_dashboard_anonymous_is_sent_to_login(client):
    response = client.get("/employer")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_dashboard_organiser_is_404(client, login_as):
    login_as("organiser")
    assert client.get("/employer").status_code == 404


def test_profile_saves_details(client, login_as):
    user = login_as("employer")
    response = client.post("/employer/profile", data={
        "name": "新名字科技有限公司", "credit_code": user.employer.credit_code, "industry": "电子制造",
        "contact_name": "李主管", "contact_phone": "139 0013 9000", "address": "高新区 1 号",
        "description": "我们招人",
    })
    assert response.status_code == 303
    db.session.expire_all()
    assert user.employer.name == "新名字科技有限公司"
    assert user.employer.contact_phone == "13900139000"


def test_profile_rejects_bad_credit_code_and_phone(client, login_as):
    user = login_as("employer")
    response = client.post("/employer/profile", data={
        "name": "x", "credit_code": "91511100000000000X", "contact_name": "李", "contact_phone": "12345",
    })
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "校验位" in page and "11 位手机号" in page
    db.session.expire_all()
    assert user.employer.name != "x"


def test_profile_rejects_credit_code_of_another_employer(client, login_as, make_employer):
    other = make_employer()
    login_as("employer")
    response = client.post("/employer/profile", data={
        "name": "x", "credit_code": other.credit_code, "contact_name": "李", "contact_phone": "13800138000",
    })
    assert response.status_code == 422
    assert "另一家企业" in response.get_data(as_text=True)


def test_staff_adds_second_login_for_same_employer(client, login_as):
    user = login_as("employer")
    response = client.post("/employer/staff", data={
        "name": "展位小张", "login": "Booth@Firm.cn", "password": "long-enough-pw",
    })
    assert response.status_code == 303
    added = db.session.query(User).filter_by(login="booth@firm.cn").one()
    assert added.employer_id == user.employer_id and added.role == "employer"
    entry = db.session.query(AuditEntry).filter_by(action="account.create").one()
    assert (entry.user_id, entry.obj_id) == (user.id, added.id)  # the audit log says who added whom
    # The colleague can log in and sees the same employer.
    client.post("/logout")
    g.pop("_login_user", None)  # the tests share one app context across requests
    assert client.post("/login", data={"login": "booth@firm.cn", "password": "long-enough-pw"}).status_code == 303
    page = client.get("/employer").get_data(as_text=True)
    assert user.employer.name in page


def test_staff_refuses_taken_login_and_short_password(client, login_as, make_user):
    taken = make_user("organiser")
    login_as("employer")
    response = client.post("/employer/staff", data={"name": "x", "login": taken.login, "password": "long-enough"})
    assert response.status_code == 422
    assert "已经存在" in response.get_data(as_text=True)
    response = client.post("/employer/staff", data={"name": "x", "login": "new@x.cn", "password": "short"})
    assert "至少 8 位" in response.get_data(as_text=True)


def test_apply_creates_application_visible_as_pending(client, login_as, make_fair):
    user = login_as("employer")
    fair = make_fair(title="春风行动专场", status="published")
    assert "春风行动专场" in client.get("/employer/booths").get_data(as_text=True)
    response = client.post(f"/employer/booths/apply/{fair.id}", data={"note": "需要用电"})
    assert response.status_code == 303
    booth = db.session.query(Booth).filter_by(fair_id=fair.id, employer_id=user.employer_id).one()
    assert booth.status == "applied" and booth.note == "需要用电"
    page = client.get("/employer/booths").get_data(as_text=True)
    assert "审核中" in page and "需要用电" in page


def test_apply_twice_is_refused(client, login_as, make_fair):
    login_as("employer")
    fair = make_fair(status="open")
    client.post(f"/employer/booths/apply/{fair.id}", data={"note": ""})
    response = client.post(f"/employer/booths/apply/{fair.id}", data={"note": ""})
    assert response.status_code == 409
    assert "已经申请过" in response.get_data(as_text=True)


def test_apply_to_draft_or_closed_fair_is_404(client, login_as, make_fair):
    login_as("employer")
    for status in ("draft", "closed"):
        fair = make_fair(status=status)
        assert client.post(f"/employer/booths/apply/{fair.id}", data={}).status_code == 404


def test_apply_again_after_rejection(client, login_as, make_booth):
    user = login_as("employer")
    booth = make_booth(employer=user.employer, status="rejected", reject_reason="材料不全")
    page = client.get("/employer/booths").get_data(as_text=True)
    assert "未通过" in page and "材料不全" in page
    assert client.post(f"/employer/booths/apply/{booth.fair_id}", data={"note": "已补齐"}).status_code == 303
    db.session.expire_all()
    assert booth.status == "applied" and booth.reject_reason == ""


def test_mine_shows_approved_number(client, login_as, make_booth):
    user = login_as("employer")
    make_booth(employer=user.employer, number="C-07")
    page = client.get("/employer/booths").get_data(as_text=True)
    assert "已通过" in page and "C-07" in page and "打印展位海报" in page


def test_placements_choose_vacancies_and_bump_booth_version(client, hx, login_as, make_booth, make_vacancy):
    user = login_as("employer")
    booth = make_booth(employer=user.employer, vacancies=1)
    extra = make_vacancy(user.employer, title="新岗位焊工")
    version = booth.version
    response = hx.post(f"/employer/booths/{booth.id}/vacancies", data={"vacancy": [str(extra.id)]})
    assert response.status_code == 200
    assert "已保存" in response.get_data(as_text=True)
    db.session.expire_all()
    assert [v.title for v in booth.vacancies] == ["新岗位焊工"]
    assert booth.version > version


def test_placements_refuses_vacancy_of_another_employer(client, login_as, make_booth, make_vacancy):
    user = login_as("employer")
    booth = make_booth(employer=user.employer, vacancies=1)
    foreign = make_vacancy()
    response = client.post(f"/employer/booths/{booth.id}/vacancies", data={"vacancy": [str(foreign.id)]})
    assert response.status_code == 404
    db.session.expire_all()
    assert len(booth.vacancies) == 1


def test_poster_shows_code_number_employer_pay_and_site(client, login_as, make_booth, make_vacancy):
    user = login_as("employer")
    booth = make_booth(employer=user.employer, number="B-03", vacancies=[
        make_vacancy(user.employer, title="SMT 操作工", pay_min=3800, pay_max=5200),
        make_vacancy(user.employer, title="已关的岗位", is_open=False),
    ])
    page = client.get(f"/employer/booths/{booth.id}/poster").get_data(as_text=True)
    assert "<svg" in page and "B-03" in page and user.employer.name in page
    assert "SMT 操作工" in page and "3,800–5,200 元/月" in page
    assert "已关的岗位" not in page
    assert "微信扫一扫 · 登记求职意向" in page
    assert "fair.test" in page  # the site's address under the code


def test_poster_uses_site_address_when_configured(client, app, login_as, make_booth):
    app.config["SITE_ADDRESS"] = "https://jobs.example.gov.cn"
    user = login_as("employer")
    booth = make_booth(employer=user.employer)
    page = client.get(f"/employer/booths/{booth.id}/poster").get_data(as_text=True)
    assert "jobs.example.gov.cn" in page


def test_poster_of_unapproved_booth_is_404(client, login_as, make_booth):
    user = login_as("employer")
    booth = make_booth(employer=user.employer, status="applied")
    assert client.get(f"/employer/booths/{booth.id}/poster").status_code == 404


def test_staff_active_switches_colleague_off_and_on(client, login_as, make_user):
    user = login_as("employer")
    colleague = make_user("employer", employer=user.employer, name="离职的小李")
    assert client.post(f"/employer/staff/{colleague.id}/active", data={"active": "0"}).status_code == 303
    db.session.expire_all()
    assert not colleague.active
    assert "已停用" in client.get("/employer/staff").get_data(as_text=True)
    client.post(f"/employer/staff/{colleague.id}/active", data={"active": "1"})
    db.session.expire_all()
    assert colleague.active


def test_staff_active_refuses_own_login(client, login_as):
    user = login_as("employer")
    response = client.post(f"/employer/staff/{user.id}/active", data={"active": "0"}, follow_redirects=True)
    assert "不能停用自己" in response.get_data(as_text=True)
    db.session.expire_all()
    assert user.active


def test_staff_active_off_ends_the_colleagues_session(app, login_as, make_user):
    user = login_as("employer")
    colleague = make_user("employer", employer=user.employer)
    other = app.test_client()
    g.pop("_login_user", None)
    assert other.post("/login", data={"login": colleague.login, "password": PASSWORD}).status_code == 303
    g.pop("_login_user", None)
    assert other.get("/employer").status_code == 200
    colleague.active = False
    db.session.commit()
    g.pop("_login_user", None)
    assert other.get("/employer").status_code == 302
