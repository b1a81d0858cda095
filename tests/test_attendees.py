"""Attendees: the booth page a QR code opens, signing intent without an account, my intents,
deleting my data, abuse limits, and how light the booth page is."""
from __future__ import annotations

from sqlalchemy import func, select

from fairsite.booths.cache import touch_booth, touch_booths_of_vacancy, touch_fair
from fairsite.extensions import db
from fairsite.intents.models import Intent

FORM = {"name": "张三", "phone": "13800138000", "consent": "y", "step": "form"}


def sign(client, vacancy, where: dict, **form):
    data = {"vacancy_id": vacancy.id, **where, **form}
    return client.post("/intents/sign", data=data)


def first_sign(client, booth, vacancy=None, **overrides):
    vacancy = vacancy or booth.vacancies[0]
    return sign(client, vacancy, {"booth": booth.token}, **{**FORM, **overrides})


def intent_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Intent))


def active_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Intent).where(Intent.withdrawn_at.is_(None)))


# --- the booth page -----------------------------------------------------------------------

def test_public_shows_employer_booth_and_vacancies_in_large_type(client, make_booth, make_employer, make_vacancy):
    employer = make_employer(name="川南电子有限公司")
    booth = make_booth(employer=employer, number="A-12", vacancies=[
        make_vacancy(employer, title="电子装配工", pay_min=4000, pay_max=6000, headcount=30,
                     location="高新区", age_min=18, age_max=50, meals_lodging=True, social_insurance=True),
    ])
    response = client.get(f"/q/{booth.token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in ("川南电子有限公司", "A-12", "电子装配工", "4,000–6,000 元/月", "招 30 人", "包吃住",
                 "五险一金", "高新区", "18–50 岁", "我有意向"):
        assert text in page, text
    assert "__fs_csrf" not in page


def test_public_unknown_token_is_clear_404(client, make_booth):
    make_booth()
    response = client.get("/q/nosuchtoken")
    assert response.status_code == 404
    assert "二维码无效" in response.get_data(as_text=True)


def test_public_booth_not_approved_says_so(client, make_booth):
    booth = make_booth(status="applied")
    response = client.get(f"/q/{booth.token}")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "还没有开放" in page and "我有意向" not in page


def test_public_closed_fair_says_so(client, make_booth, make_fair):
    booth = make_booth(fair=make_fair(status="closed"))
    response = client.get(f"/q/{booth.token}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "本场招聘会已结束" in page and "我有意向" not in page


def test_public_follows_changes_after_touch(client, make_booth):
    booth = make_booth(vacancies=1)
    assert "岗位1" in client.get(f"/q/{booth.token}").get_data(as_text=True)
    vacancy = booth.vacancies[0]
    vacancy.title = "新的岗位名"
    touch_booths_of_vacancy(vacancy.id)
    db.session.commit()
    assert "新的岗位名" in client.get(f"/q/{booth.token}").get_data(as_text=True)
    booth.number = "Z-99"
    touch_booth(booth.id)
    db.session.commit()
    assert "Z-99" in client.get(f"/q/{booth.token}").get_data(as_text=True)
    booth.fair.status = "closed"
    touch_fair(booth.fair_id)
    db.session.commit()
    assert "本场招聘会已结束" in client.get(f"/q/{booth.token}").get_data(as_text=True)


def test_public_shows_signed_state_for_this_device_only(app, client, make_booth):
    booth = make_booth(vacancies=2)
    first_sign(client, booth)
    page = client.get(f"/q/{booth.token}").get_data(as_text=True)
    assert page.count("已登记") == 1 and page.count("我有意向</button>") == 1
    other = app.test_client()
    page = other.get(f"/q/{booth.token}").get_data(as_text=True)
    assert "已登记" not in page and page.count("我有意向</button>") == 2
