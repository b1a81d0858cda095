"""Desk registration (代登记): an organiser signs intents for a person without a smartphone."""
from sqlalchemy import select

from fairsite import pubsub
from fairsite.extensions import db
from fairsite.intents.models import Attendee, Intent
from fairsite.tallies import service as tallies


def _desk(client, fair_id, **data):
    form = {"name": "李桂兰", "phone": "139 0013 9000", "groups": ["returnee", "poverty"], "consent": "y",
            "action": "register", **data}
    return client.post(f"/manage/fairs/{fair_id}/desk", data=form)


def test_desk_records_intents_with_source_desk_and_verbal_consent(client, app, login_as, make_booth):
    booth = make_booth(vacancies=2)
    organiser = login_as("organiser")
    sub = pubsub.subscribe(f"fair:{booth.fair_id}")
    response = _desk(client, booth.fair_id, vacancy=[v.id for v in booth.vacancies])
    assert response.status_code == 303 and "/desk/slip/" in response.headers["Location"]
    attendee = db.session.scalar(select(Attendee).where(Attendee.phone == "13900139000"))
    assert attendee.name == "李桂兰" and attendee.consent_method == "verbal"
    assert attendee.consent_version == app.config["CONSENT_VERSION"]
    assert attendee.group_codes == ["returnee", "poverty"]
    intents = db.session.scalars(select(Intent).where(Intent.attendee_id == attendee.id)).all()
    assert len(intents) == 2
    assert {(i.source, i.registered_by_id, i.fair_id, i.booth_id) for i in intents} == {
        ("desk", organiser.id, booth.fair_id, booth.id)}
    counts = tallies.read(f"fair:{booth.fair_id}")
    assert counts["intents"][""] == 2 and counts["source"]["desk"] == 2 and counts["attendees"][""] == 1
    assert counts["group"]["returnee"] == 2
    # Boards watching the fair are told.
    assert "event: tally" in (sub.get(timeout=1) or "")
    sub.close()


def test_desk_slip_lists_jobs_booths_and_employer_phones(client, login_as, make_booth, make_employer):
    employer = make_employer(name="恒泰机械制造有限公司", contact_phone="13812345678", contact_name="周经理")
    booth = make_booth(employer=employer, number="B-07", vacancies=1)
    login_as("organiser")
    response = _desk(client, booth.fair_id, vacancy=[booth.vacancies[0].id])
    slip = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "求职意向回执" in slip
    assert "B-07" in slip and "恒泰机械制造有限公司" in slip and "13812345678" in slip
    assert booth.vacancies[0].title in slip
    assert "139****9000" in slip  # the person's own number is masked on paper


def test_desk_refuses_bad_phone_and_missing_consent_in_chinese(client, login_as, make_booth):
    booth = make_booth()
    login_as("organiser")
    response = _desk(client, booth.fair_id, phone="12345", consent="", vacancy=[booth.vacancies[0].id])
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "手机号不正确" in page and "口头同意" in page
    # What was picked stays picked.
    assert f'name="vacancy" value="{booth.vacancies[0].id}" checked' in page
    assert db.session.scalar(select(Intent.id)) is None


def test_desk_needs_at_least_one_vacancy_of_this_fair(client, login_as, make_booth):
    booth = make_booth()
    elsewhere = make_booth()
    login_as("organiser")
    response = _desk(client, booth.fair_id, vacancy=[elsewhere.vacancies[0].id])
    assert response.status_code == 422 and "请至少选择一个岗位" in response.get_data(as_text=True)
    assert db.session.scalar(select(Intent.id)) is None


def test_desk_closed_fair_takes_no_intents(client, login_as, make_booth, make_fair):
    booth = make_booth(fair=make_fair(status="closed"))
    login_as("organiser")
    response = _desk(client, booth.fair_id, vacancy=[booth.vacancies[0].id])
    assert response.status_code == 422 and "不接受登记" in response.get_data(as_text=True)
    assert db.session.scalar(select(Intent.id)) is None


def test_desk_same_person_twice_keeps_one_intent_and_original_name(client, login_as, make_booth):
    booth = make_booth()
    login_as("organiser")
    vacancy = booth.vacancies[0].id
    _desk(client, booth.fair_id, vacancy=[vacancy])
    response = _desk(client, booth.fair_id, name="李桂芝", vacancy=[vacancy])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "都已登记过" in page and "李桂兰" in page
    assert len(db.session.scalars(select(Intent)).all()) == 1
    assert tallies.read(f"fair:{booth.fair_id}")["intents"][""] == 1


def test_desk_vacancies_searches_title_employer_and_booth_number(hx, login_as, make_fair, make_booth, make_vacancy, make_employer):
    fair = make_fair()
    e1 = make_employer(name="鑫源服饰有限公司")
    e2 = make_employer(name="宏达物流有限公司")
    b1 = make_booth(fair=fair, employer=e1, number="A-03", vacancies=[make_vacancy(e1, title="缝纫工")])
    make_booth(fair=fair, employer=e2, number="C-11", vacancies=[make_vacancy(e2, title="叉车工")])
    login_as("organiser")
    url = f"/manage/fairs/{fair.id}/desk/vacancies"
    body = hx.get(url, query_string={"q": "缝纫"}).get_data(as_text=True)
    assert body.lstrip().startswith(f'<div id="desk-vacancies-{fair.id}"')
    assert "缝纫工" in body and "叉车工" not in body
    body = hx.get(url, query_string={"q": "宏达"}).get_data(as_text=True)
    assert "叉车工" in body and "缝纫工" not in body
    body = hx.get(url, query_string={"q": "c-11"}).get_data(as_text=True)
    assert "叉车工" in body and "缝纫工" not in body
    # A ticked vacancy stays, ticked, whatever is searched next.
    body = hx.get(url, query_string={"q": "叉车", "vacancy": b1.vacancies[0].id}).get_data(as_text=True)
    assert f'value="{b1.vacancies[0].id}" checked' in body and "叉车工" in body


def test_desk_search_without_javascript_keeps_the_form(client, login_as, make_booth):
    booth = make_booth()
    login_as("organiser")
    response = client.post(f"/manage/fairs/{booth.fair_id}/desk",
                           data={"name": "王强", "phone": "", "q": booth.vacancies[0].title, "action": "search"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="王强"' in page and "请填写手机号" not in page
    assert f'value="{booth.vacancies[0].id}"' in page
