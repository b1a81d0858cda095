"""Logging in and out, employer registration, role checks."""
import pytest
from sqlalchemy import func, select

from fairsite.accounts.models import User
from fairsite.employers.credit_code import make_credit_code, normalise_credit_code
from fairsite.employers.models import Employer
from fairsite.extensions import db
from tests.conftest import PASSWORD

GOOD_CODE = make_credit_code("91511100MA62XXXX0")


def register_data(**kw):
    return {"name": "川南电子科技有限公司", "credit_code": GOOD_CODE, "industry": "电子制造",
            "contact_name": "王经理", "contact_phone": "138 0013 8000", "login": "hr@chuannan.cn",
            "password": "longenough1", "confirm": "longenough1", **kw}


def test_credit_code_check_character():
    # A real-world shaped code and its check character (GB 32100-2015).
    assert normalise_credit_code("91350100M000100Y43") == "91350100M000100Y43"
    assert normalise_credit_code("91350100M000100Y44") is None
    assert normalise_credit_code(" 91350100m000100y43 ") == "91350100M000100Y43"
    assert normalise_credit_code("９１３５０１００Ｍ０００１００Ｙ４３") == "91350100M000100Y43"
    assert normalise_credit_code("91350100M000100Y4") is None
    assert normalise_credit_code("91350100I000100Y43") is None  # I is not in the alphabet


def test_login_page_is_chinese(client):
    page = client.get("/login").get_data(as_text=True)
    assert "工作人员登录" in page and 'lang="zh-CN"' in page


def test_login_wrong_password_says_so_and_logs_nobody_in(client, make_user):
    user = make_user("organiser")
    response = client.post("/login", data={"login": user.login, "password": "nope"})
    assert response.status_code == 422
    assert "账号或密码不正确" in response.get_data(as_text=True)


def test_login_then_logout(client, make_user):
    user = make_user("organiser")
    response = client.post("/login", data={"login": user.login.upper(), "password": PASSWORD})
    assert response.status_code == 303
    assert "退出" in client.get("/").get_data(as_text=True)
    assert client.post("/logout").status_code == 303
    page = client.get("/").get_data(as_text=True)
    assert "已退出登录" in page and "工作人员登录" in page


@pytest.mark.parametrize("target,allowed", [
    ("/fairs/1", True),
    ("https://evil.example/x", False),
    ("//evil.example/x", False),
    ("/\\evil.example", False),
    ("javascript:alert(1)", False),
])
def test_login_next_only_leads_to_this_site(client, make_user, target, allowed):
    user = make_user("organiser")
    response = client.post("/login", query_string={"next": target},
                           data={"login": user.login, "password": PASSWORD})
    assert response.status_code == 303
    location = response.headers["Location"]
    if allowed:
        assert location.endswith(target)
    else:
        assert "evil" not in location and "javascript" not in location


def test_login_is_throttled_after_repeated_failures(client, make_user):
    user = make_user("organiser")
    codes = [client.post("/login", data={"login": user.login, "password": "bad"}).status_code
             for _ in range(12)]
    assert codes[0] == 422
    assert codes[-1] == 429
    page = client.post("/login", data={"login": user.login, "password": "bad"}).get_data(as_text=True)
    assert "操作太频繁" in page


def test_register_creates_employer_and_logs_in(client):
    response = client.post("/register", data=register_data())
    assert response.status_code == 303
    employer = db.session.scalar(select(Employer))
    assert employer.credit_code == GOOD_CODE
    assert employer.contact_phone == "13800138000"
    user = db.session.scalar(select(User))
    assert user.role == "employer" and user.employer_id == employer.id
    assert user.password_hash.startswith("scrypt:")


@pytest.mark.parametrize("field,value,message", [
    ("credit_code", "91511100MA62XXXX01", "统一社会信用代码"),
    ("credit_code", "", "请填写统一社会信用代码"),
    ("contact_phone", "12345", "11 位手机号"),
    ("password", "short", "密码至少 8 位"),
    ("confirm", "different1", "两次输入的密码不一致"),
    ("name", "", "请填写企业名称"),
])
def test_register_bad_input_is_explained_and_stores_nothing(client, field, value, message):
    data = register_data(**{field: value})
    if field == "password":
        data["confirm"] = value
    response = client.post("/register", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Employer)) == 0
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_register_same_credit_code_twice_is_refused(client):
    client.post("/register", data=register_data())
    client.post("/logout")
    response = client.post("/register", data=register_data(login="other@chuannan.cn"))
    assert response.status_code == 422
    assert "这家企业已经注册" in response.get_data(as_text=True)


def test_register_keeps_what_was_typed_escaped(client):
    response = client.post("/register", data=register_data(name="<script>alert(1)</script>", credit_code="bad"))
    body = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body
