"""An interview invitation by text, in the browser: someone signs at the booth from a phone;
the employer picks them from the list, sets date, time, place and contact and sends; the
queue's consumer (`flask sms worker`, as `make run` starts it) sends the text with the console
backend; the organiser's outbox shows it sent; the person is 已联系 and /me shows the
invitation."""
from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.conftest import BACKENDS, ROOT, shot, start_server, stop_server
from tests.servers import venv_bin

EMPLOYER = ("hr@demo.fairsite.cn", "demo-employer")
ORGANISER = ("organiser@demo.fairsite.cn", "demo-organiser")


def login(page, base: str, name: str, password: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=login]", name)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url


@pytest.fixture(scope="module", params=BACKENDS)
def sms_site(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e-sms")
    proc, base, env = start_server(tmp, backend=request.param)
    log = open(tmp / "sms-worker.log", "w")
    worker = subprocess.Popen([venv_bin("flask"), "sms", "worker"], env=env, cwd=ROOT,
                              stdout=log, stderr=subprocess.STDOUT)
    yield base
    worker.terminate()
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        worker.kill()
    stop_server(proc, env)


def test_employer_sends_interview_invitation_and_outbox_shows_it_sent(sms_site, laptop, phone, tablet):
    base = sms_site
    page = laptop.new_page()
    login(page, base, *EMPLOYER)
    page.goto(base + "/employer/booths")
    links = [a.get_attribute("href") for a in page.locator(".booth-public-link").all()]

    # Someone signs at the booth from their phone (at a fair that is open: the demo has
    # closed ones too).
    attendee = phone.new_page()
    for booth_url in links:
        attendee.goto(booth_url)
        if attendee.locator("button:has-text('我有意向')").count():
            break
    attendee.locator("button:has-text('我有意向')").first.click()
    attendee.fill("input[name=name]", "钱邀约")
    attendee.fill("input[name=phone]", "13912340001")
    attendee.check("input[name=consent]")
    attendee.click("button:has-text('确认登记')")
    attendee.wait_for_selector("text=已登记")

    # The employer goes from the list to the invitation, picks them and sends.
    page.goto(base + "/employer/intents")
    page.click("#invite-link")
    person = page.locator(".invite-people li", has_text="钱邀约")
    person.locator("input[type=checkbox]").check()
    day = (datetime.now(UTC) + timedelta(hours=8) + timedelta(days=2)).date()
    page.fill("input[name=on_date]", day.isoformat())
    page.fill("input[name=at_time]", "14:30")
    page.fill("input[name=place]", "高新区创业路8号人事部")
    page.fill("input[name=contact]", "王经理 0833-1234567")
    shot(page, "sms-invite-laptop")
    page.click("button:has-text('发送面试邀请')")
    page.wait_for_selector("text=已向 1 人发出面试邀请短信")

    # Their status moved to 已联系 in the employer's list.
    page.goto(base + "/employer/intents?status=contacted")
    row = page.locator("tr.intent-row", has_text="钱邀约")
    row.wait_for()
    assert row.locator("select[name=status]").input_value() == "contacted"

    # The organiser's outbox shows the text sent (the worker took it from the queue).
    desk = tablet.new_page()
    login(desk, base, *ORGANISER)
    deadline = time.monotonic() + 20
    while True:
        desk.goto(base + "/manage/sms?purpose=invite")
        sms = desk.locator("tr.sms-row", has_text="139****0001")
        if sms.count() and "已发送" in sms.first.inner_text():
            break
        assert time.monotonic() < deadline, "the invitation text was not sent"
        time.sleep(0.5)
    text = sms.first.inner_text()
    assert "钱邀约您好" in text and "14:30" in text and "13912340001" not in text
    shot(desk, "sms-outbox-tablet")

    # The person sees the invitation on their phone.
    attendee.goto(base + "/me")
    invitation = attendee.locator("#my-invitations")
    assert "14:30" in invitation.inner_text() and "高新区创业路8号人事部" in invitation.inner_text()
