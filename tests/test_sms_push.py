"""Vacancy pushes (精准推送): the separate, unticked consent at signing with its version, the
organiser's audience (key group, categories of earlier intents, fair) with a preview, the
personal single-use short link that makes signing one tap, stopping (the link, /me, a reply
"TD"), once per person per announcement, and nobody without consent ever texted."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from fairsite.extensions import db
from fairsite.intents.models import Attendee, Intent
from fairsite.live.models import LiveItem, LiveSession
from fairsite.sms import push
from fairsite.sms.models import Message, Push, PushLink
from fairsite.sql import write_transaction
from tests.test_attendees import first_sign, sign


@pytest.fixture
def app_config():
    return {"SMS_RECEIPT_TOKEN": "receipt-token-0123456789", "SITE_ADDRESS": "https://jy.test"}


def consent(phone: str, groups: str = "") -> Attendee:
    """A person who ticked the push consent at signing."""
    with write_transaction():
        attendee = db.session.scalar(select(Attendee).where(Attendee.phone == phone))
        push.record_consent(attendee.id)
        if groups:
            attendee.groups = groups
    db.session.expire_all()
    return db.session.scalar(select(Attendee).where(Attendee.phone == phone))


def pushes(phone: str | None = None) -> list[Message]:
    db.session.commit()
    query = select(Message).where(Message.purpose == "push").order_by(Message.id)
    if phone:
        query = query.where(Message.phone == phone)
    return list(db.session.scalars(query))


def link_of(message: Message) -> str:
    return json.loads(message.params)["link"]


def send(client, target, **data):
    return client.post("/manage/sms/push", data={"target": target, "action": "send", **data})


# ---- consent at signing ---------------------------------------------------------------------

def test_sign_form_has_an_unticked_push_consent(client, make_booth):
    booth = make_booth()
    page = client.get(f"/intents/sign?vacancy_id={booth.vacancies[0].id}&booth={booth.token}").get_data(as_text=True)
    assert "愿意接收岗位推送短信" in page
    box = page[page.index('name="push"') - 200: page.index('name="push"') + 100]
    assert "checked" not in box


def test_push_consent_is_stored_with_its_version_only_when_ticked(client, make_booth, app):
    booth = make_booth()
    first_sign(client, booth, phone="13800138001")
    first_sign(client.application.test_client(), booth, phone="13800138002", push="y")
    no, yes = (db.session.scalar(select(Attendee).where(Attendee.phone == p))
               for p in ("13800138001", "13800138002"))
    assert no.push_consent_version is None and no.push_consent_at is None
    assert yes.push_consent_version == app.config["PUSH_CONSENT_VERSION"] and yes.push_consent_at


def test_typing_someone_elses_number_does_not_subscribe_them(client, app, make_booth, make_intent):
    booth = make_booth()
    make_intent(booth, phone="13800138003")
    first_sign(client, booth, vacancy=booth.vacancies[0], phone="13800138003", push="y")
    assert db.session.scalar(select(Attendee.push_consent_version).where(Attendee.phone == "13800138003")) is None


# ---- the organiser's push -------------------------------------------------------------------

def test_push_previews_count_and_text_then_sends_only_to_the_chosen(client, login_as, make_booth, make_fair,
                                                                    make_intent, make_vacancy):
    fair = make_fair(status="published", title="春风行动专场")
    booth = make_booth(fair=fair)
    earlier = make_booth()
    service_job = make_vacancy(category="service")
    service_booth = make_booth(fair=earlier.fair, employer=service_job.employer, vacancies=[service_job])
    make_intent(earlier, phone="13900000001", groups=["returnee"])       # chosen
    make_intent(earlier, phone="13900000002", groups=["graduate"])       # other group
    make_intent(service_booth, phone="13900000003", groups=["returnee"])  # other category
    make_intent(earlier, phone="13900000004", groups=["returnee"])       # no consent
    for phone in ("13900000001", "13900000002", "13900000003"):
        consent(phone, db.session.scalar(select(Attendee.groups).where(Attendee.phone == phone)))
    login_as("organiser")
    target = f"fair:{fair.id}"
    audience = {"groups": ["returnee"], "categories": ["production"], "earlier_fair": str(earlier.fair_id)}
    page = client.post("/manage/sms/push", data={"target": target, "action": "preview", **audience}).get_data(as_text=True)
    assert "将发给 1 人" in page and "春风行动专场有10个岗位在招" in page and "回复TD退订" in page
    assert pushes() == []  # a preview sends nothing
    response = send(client, target, **audience)
    assert response.status_code == 303
    sent = pushes()
    assert [m.phone for m in sent] == ["13900000001"]
    link = link_of(sent[0])
    assert link.startswith("https://jy.test/s/") and "13900000001" not in link
    assert booth.id  # the fair announced has vacancies


def test_nobody_without_consent_or_stopped_gets_a_push(client, login_as, make_booth, make_fair, make_intent):
    fair = make_fair(status="open")
    booth = make_booth(fair=fair)
    make_intent(booth, phone="13900000011")
    make_intent(booth, phone="13900000012")
    make_intent(booth, phone="13900000013")
    consent("13900000012")
    stopped = consent("13900000013")
    push.stop(stopped.id)
    login_as("organiser")
    send(client, f"fair:{fair.id}")
    assert [m.phone for m in pushes()] == ["13900000012"]


def test_same_announcement_is_sent_once_per_person(client, login_as, make_booth, make_fair, make_intent):
    fair = make_fair(status="open")
    booth = make_booth(fair=fair)
    make_intent(booth, phone="13900000021")
    consent("13900000021")
    login_as("organiser")
    send(client, f"fair:{fair.id}")
    make_intent(booth, phone="13900000022")
    consent("13900000022")
    send(client, f"fair:{fair.id}")
    assert sorted(m.phone for m in pushes()) == ["13900000021", "13900000022"]
    assert db.session.scalar(select(func.count(PushLink.nonce))) == 2


def test_live_session_can_be_announced(client, login_as, make_booth, make_intent, make_vacancy):
    booth = make_booth()
    make_intent(booth, phone="13900000031")
    consent("13900000031")
    vacancy = make_vacancy(headcount=7)
    session = LiveSession(title="高新区直播带岗", status="scheduled")
    db.session.add(session)
    db.session.flush()
    db.session.add(LiveItem(session_id=session.id, vacancy_id=vacancy.id, position=0))
    db.session.commit()
    login_as("organiser")
    send(client, f"live:{session.id}")
    [message] = pushes()
    assert json.loads(message.params)["fair"] == "高新区直播带岗" and json.loads(message.params)["posts"] == "7"


@pytest.mark.parametrize("data", [
    {"target": ""}, {"target": "fair:999999"}, {"target": "fair:1' OR 1=1"}, {"target": "live:x"},
    {"target": "x" * 5000}, {"earlier_fair": "١"}, {"groups": "<script>"},
])
def test_push_form_refuses_hostile_input_in_chinese(client, login_as, make_booth, make_fair, make_intent, data):
    fair = make_fair(status="open")
    make_intent(make_booth(fair=fair), phone="13900000041")
    consent("13900000041")
    login_as("organiser")
    form = {"target": f"fair:{fair.id}", "action": "send", **data}
    response = client.post("/manage/sms/push", data=form)
    if "groups" in data:  # an unknown group is dropped, nobody is narrowed by it
        assert response.status_code == 303
        return
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "请选择要推送的招聘会或直播" in page or "请从列表里选择招聘会" in page
    assert pushes() == []


def test_push_page_is_for_organiser_admins(client, login_as, make_user):
    login_as("employer")
    assert client.get("/manage/sms/push").status_code == 404
    client.post("/logout")
    login_as("organiser", staff_role="viewer")
    assert client.get("/manage/sms/push").status_code == 403


# ---- the personal short link ------------------------------------------------------------------

@pytest.fixture
def pushed(client, login_as, make_booth, make_fair, make_intent):
    fair = make_fair(status="open")
    booth = make_booth(fair=fair)
    make_intent(booth, phone="13900000051")
    consent("13900000051")
    login_as("organiser")
    send(client, f"fair:{fair.id}")
    client.post("/logout")
    [message] = pushes()
    return fair, link_of(message).removeprefix("https://jy.test")


def test_link_opens_the_fairs_vacancies_with_the_person_known(app, pushed, make_booth):
    fair, path = pushed
    phone = app.test_client()
    response = phone.get(path)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/fairs/{fair.id}")
    # Signing there is one tap: no form, no name or number typed.
    booth = make_booth(fair=fair)
    response = sign(phone, booth.vacancies[0], {"fair": fair.id})
    assert response.status_code == 303
    intent = db.session.scalars(select(Intent).where(Intent.vacancy_id == booth.vacancies[0].id)).one()
    assert db.session.get(Attendee, intent.attendee_id).phone == "13900000051"


def test_link_works_once(app, pushed):
    _fair, path = pushed
    first, second = app.test_client(), app.test_client()
    assert first.get(path).status_code == 303
    # The owner's own phone may open it again; another phone gets the page as anybody.
    assert first.get(path).status_code == 303
    response = second.get(path)
    assert response.status_code == 200 and "这个链接已经用过了" in response.get_data(as_text=True)
    assert "fairsite.device" not in response.headers.get("Set-Cookie", "")


@pytest.mark.parametrize("change", ["flip", "short", "long", "junk"])
def test_tampered_links_open_nothing(app, pushed, change):
    _fair, path = pushed
    token = path.removeprefix("/s/")
    bad = {"flip": token[:-1] + ("A" if token[-1] != "A" else "B"), "short": token[:-1],
           "long": token + "A", "junk": "%F0%9F%98%80' OR 1=1"}[change]
    response = app.test_client().get(f"/s/{bad}")
    assert response.status_code == 404 and "这个链接打不开" in response.get_data(as_text=True)
    assert db.session.scalar(select(PushLink.used_at)) is None


# ---- stopping -----------------------------------------------------------------------------

def _subscribed(phone="13900000051") -> bool:
    db.session.expire_all()
    return push.subscribed(db.session.scalar(select(Attendee).where(Attendee.phone == phone)))


def test_stop_link_asks_then_stops(app, pushed):
    _fair, path = pushed
    phone = app.test_client()
    page = phone.get(path + "/td").get_data(as_text=True)
    assert "确认退订" in page and _subscribed()  # a GET (a link preview) stops nothing
    response = phone.post(path + "/td")
    assert response.status_code == 200 and "已退订" in response.get_data(as_text=True)
    assert not _subscribed()


def test_stopped_person_gets_no_further_push(app, client, login_as, pushed, make_booth, make_fair):
    _fair, path = pushed
    app.test_client().post(path + "/td")
    other = make_fair(status="open")
    make_booth(fair=other)
    login_as("organiser")
    send(client, f"fair:{other.id}")
    assert len(pushes()) == 1


def test_reply_td_stops_the_pushes(app, client, pushed):
    body = [{"phone_number": "8613900000051", "content": " td ", "send_time": "2026-12-01 10:00:00",
             "dest_code": "1", "sequence_id": 1}]
    response = client.post("/sms/replies/aliyun/receipt-token-0123456789", json=body)
    assert response.status_code == 200 and response.get_json() == {"code": 0, "msg": "成功"}
    assert not _subscribed()


@pytest.mark.parametrize("token, body", [("wrong", []), ("receipt-token-0123456789", {"a": 1}),
                                         ("receipt-token-0123456789", [{"phone_number": 5, "content": "TD"}]),
                                         ("receipt-token-0123456789", [{"phone_number": "13900000051", "content": "好的"}])])
def test_replies_from_strangers_or_other_words_change_nothing(client, pushed, token, body):
    response = client.post(f"/sms/replies/aliyun/{token}", json=body)
    assert response.status_code in (200, 400, 404)
    assert _subscribed()


def test_me_page_stops_the_pushes(app, pushed):
    _fair, path = pushed
    phone = app.test_client()
    phone.get(path)
    page = phone.get("/me").get_data(as_text=True)
    assert "退订岗位推送短信" in page
    assert phone.post("/me/push/stop").status_code == 303
    assert not _subscribed()
    assert "已退订，不会再收到岗位推送短信" in phone.get("/me").get_data(as_text=True)


def test_push_records_its_audience(client, login_as, pushed):
    push_row = db.session.scalars(select(Push)).one()
    assert json.loads(push_row.audience) == {"groups": [], "categories": [], "fair": None}
    assert push_row.recipients == 1


def test_a_push_past_its_limit_reaches_the_next_ones_when_sent_again(app, client, login_as, make_booth,
                                                                      make_fair, make_intent):
    app.config["PUSH_MAX_RECIPIENTS"] = 2
    fair = make_fair(status="open")
    booth = make_booth(fair=fair)
    for n in range(3):
        make_intent(booth, phone=f"1390000006{n}")
        consent(f"1390000006{n}")
    login_as("organiser")
    send(client, f"fair:{fair.id}")
    assert len(pushes()) == 2
    send(client, f"fair:{fair.id}")
    assert sorted(m.phone for m in pushes()) == ["13900000060", "13900000061", "13900000062"]
    send(client, f"fair:{fair.id}")
    assert len(pushes()) == 3
    page = client.post("/manage/sms/push", data={"target": f"fair:{fair.id}", "action": "preview"}).get_data(as_text=True)
    assert "将发给 0 人" in page and "另有 3 人已收到过这条推送" in page
