"""Employers' vacancies: inline create, edit, close and reopen; field-by-field validation."""
from fairsite.booths.models import Booth
from fairsite.extensions import db
from fairsite.vacancies.models import Vacancy

GOOD = {"title": "焊工", "category": "technician", "headcount": "5", "pay_min": "5000", "pay_max": "7500",
        "location": "高新区", "shifts": "长白班", "age_min": "18", "age_max": "50", "education": "",
        "meals_lodging": "y", "social_insurance": "y", "description": "有证优先"}


def new(data: dict) -> dict:
    return {f"new-{k}": v for k, v in data.items()}


def test_index_lists_own_vacancies_with_new_form(client, login_as, make_vacancy):
    user = login_as("employer")
    make_vacancy(user.employer, title="缝纫工")
    make_vacancy(title="别人家的岗位")
    page = client.get("/employer/vacancies").get_data(as_text=True)
    assert "缝纫工" in page and "别人家的岗位" not in page
    assert 'name="new-title"' in page


def test_create_plain_form_redirects_and_saves(client, login_as):
    user = login_as("employer")
    response = client.post("/employer/vacancies", data=new(GOOD))
    assert response.status_code == 303
    vacancy = db.session.query(Vacancy).filter_by(employer_id=user.employer_id).one()
    assert (vacancy.title, vacancy.headcount, vacancy.pay_min, vacancy.pay_max) == ("焊工", 5, 5000, 7500)
    assert vacancy.meals_lodging and vacancy.social_insurance and vacancy.is_open


def test_create_htmx_returns_fresh_form_and_new_row(hx, login_as):
    login_as("employer")
    response = hx.post("/employer/vacancies", data=new({**GOOD, "title": "叉车工", "pay_min": "4,000", "pay_max": "５０００"}))
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="vacancy-new-box"')
    assert 'hx-swap-oob="afterbegin:#vacancy-list"' in body and "叉车工" in body and "已添加岗位" in body
    assert "4,000–5,000 元/月" in body  # typed with a comma and full-width digits


def test_create_rejects_bad_values_with_chinese_messages(client, login_as):
    user = login_as("employer")
    bad = {**GOOD, "title": "", "headcount": "0", "pay_min": "6000", "pay_max": "5000",
           "age_min": "50", "age_max": "30", "category": "astronaut"}
    response = client.post("/employer/vacancies", data=new(bad))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in ("请填写岗位名称", "招聘人数至少 1 人", "月薪上限不能低于下限", "最高年龄不能低于最低年龄", "请从列表中选择"):
        assert message in page
    assert db.session.query(Vacancy).filter_by(employer_id=user.employer_id).count() == 0


def test_create_htmx_error_swaps_form_with_errors(hx, login_as):
    login_as("employer")
    response = hx.post("/employer/vacancies", data=new({**GOOD, "headcount": "abc"}))
    body = response.get_data(as_text=True)
    assert response.status_code == 200  # htmx swaps only 2xx
    assert body.lstrip().startswith('<div id="vacancy-new-box"') and "请填写整数" in body


def test_validate_reports_one_field(hx, login_as):
    login_as("employer")
    url = "/employer/vacancies/validate?prefix=new&field="
    body = hx.post(url + "pay_max", data=new({**GOOD, "pay_max": "4000"})).get_data(as_text=True)
    assert "月薪上限不能低于下限" in body
    # Another field's problem is not reported against this one.
    body = hx.post(url + "pay_max", data=new({**GOOD, "title": ""})).get_data(as_text=True)
    assert body.strip() == ""
    assert "请填写岗位名称" in hx.post(url + "title", data=new({**GOOD, "title": " "})).get_data(as_text=True)
    assert "招聘人数至少 1 人" in hx.post(url + "headcount", data=new({**GOOD, "headcount": "0"})).get_data(as_text=True)
    assert "年龄应在" in hx.post(url + "age_min", data=new({**GOOD, "age_min": "12"})).get_data(as_text=True)


def test_validate_rejects_odd_prefix(hx, login_as):
    login_as("employer")
    assert hx.post("/employer/vacancies/validate?prefix=x<y&field=title", data={}).status_code == 400


def test_edit_and_update_inline(hx, client, login_as, make_vacancy):
    user = login_as("employer")
    vacancy = make_vacancy(user.employer, title="普工")
    form = hx.get(f"/employer/vacancies/{vacancy.id}/edit").get_data(as_text=True)
    assert form.lstrip().startswith(f'<form id="vacancy-row-{vacancy.id}"')
    assert f'name="v{vacancy.id}-title"' in form and 'value="普工"' in form
    data = {f"v{vacancy.id}-{k}": v for k, v in {**GOOD, "title": "普工（夜班）"}.items()}
    response = hx.post(f"/employer/vacancies/{vacancy.id}", data=data)
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith(f'<article id="vacancy-row-{vacancy.id}"') and "普工（夜班）" in body
    # Without JavaScript the edit page is a whole page and saving redirects.
    assert "<html" in client.get(f"/employer/vacancies/{vacancy.id}/edit").get_data(as_text=True)
    assert client.post(f"/employer/vacancies/{vacancy.id}", data=data).status_code == 303


def test_update_bumps_booth_versions(hx, login_as, make_booth):
    user = login_as("employer")
    booth = make_booth(employer=user.employer, vacancies=1)
    vacancy, version = booth.vacancies[0], booth.version
    data = {f"v{vacancy.id}-{k}": v for k, v in GOOD.items()}
    hx.post(f"/employer/vacancies/{vacancy.id}", data=data)
    db.session.expire_all()
    assert db.session.get(Booth, booth.id).version > version


def test_close_and_reopen(hx, client, login_as, make_booth):
    user = login_as("employer")
    booth = make_booth(employer=user.employer, vacancies=1)
    vacancy, version = booth.vacancies[0], booth.version
    body = hx.post(f"/employer/vacancies/{vacancy.id}/close").get_data(as_text=True)
    assert "已关闭" in body and "重新开放" in body
    db.session.expire_all()
    assert not vacancy.is_open and db.session.get(Booth, booth.id).version > version
    # Closed vacancies leave the public fair page.
    assert vacancy.title not in client.get(f"/fairs/{booth.fair_id}").get_data(as_text=True)
    assert client.post(f"/employer/vacancies/{vacancy.id}/reopen").status_code == 303
    db.session.expire_all()
    assert vacancy.is_open


def test_cancel_edit_returns_row(hx, login_as, make_vacancy):
    user = login_as("employer")
    vacancy = make_vacancy(user.employer)
    body = hx.get(f"/employer/vacancies/{vacancy.id}").get_data(as_text=True)
    assert body.lstrip().startswith(f'<article id="vacancy-row-{vacancy.id}"')


def test_place_puts_vacancy_at_booth_and_takes_it_off(hx, client, login_as, make_booth, make_vacancy):
    user = login_as("employer")
    booth = make_booth(employer=user.employer, vacancies=1, number="D-04")
    vacancy = make_vacancy(user.employer, title="新来的叉车工")
    version = booth.version
    page = client.get("/employer/vacancies").get_data(as_text=True)
    assert "＋ 放到 D-04" in page
    body = hx.post(f"/employer/vacancies/{vacancy.id}/booths/{booth.id}", data={"show": "1"}).get_data(as_text=True)
    assert body.lstrip().startswith(f'<article id="vacancy-row-{vacancy.id}"') and "✓ 展示在 D-04" in body
    db.session.expire_all()
    assert [v.title for v in db.session.get(Booth, booth.id).vacancies][-1] == "新来的叉车工"
    assert db.session.get(Booth, booth.id).version > version
    assert "新来的叉车工" in client.get(f"/fairs/{booth.fair_id}").get_data(as_text=True)
    assert client.post(f"/employer/vacancies/{vacancy.id}/booths/{booth.id}", data={"show": "0"}).status_code == 303
    db.session.expire_all()
    assert "新来的叉车工" not in [v.title for v in db.session.get(Booth, booth.id).vacancies]


def test_place_at_another_employers_booth_is_404(client, login_as, make_booth, make_vacancy):
    user = login_as("employer")
    vacancy = make_vacancy(user.employer)
    foreign = make_booth(vacancies=1)
    assert client.post(f"/employer/vacancies/{vacancy.id}/booths/{foreign.id}", data={"show": "1"}).status_code == 404
    db.session.expire_all()
    assert vacancy.id not in [v.id for v in db.session.get(Booth, foreign.id).vacancies]
