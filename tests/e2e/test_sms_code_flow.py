"""A fair that asks for a text code before a phone's first signing, in the browser: the first
form, then the code step in the same place, then "已登记"; and a signing the phone kept while
offline that ends up asking for the code when the network returns, not failing unseen."""
from __future__ import annotations

import json
import random

import pytest
from sqlalchemy import create_engine, text

from tests.e2e.conftest import BACKENDS, start_server, stop_server


@pytest.fixture(scope="module", params=BACKENDS)
def site(request, tmp_path_factory):
    proc, base, env = start_server(tmp_path_factory.mktemp("sms-code"), backend=request.param)
    engine = create_engine(env["FAIRSITE_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        fair_id, token = conn.execute(text(
            "SELECT b.fair_id, b.token FROM booths b WHERE b.status = 'approved' ORDER BY b.id LIMIT 1")).one()
        conn.execute(text("UPDATE fairs SET verify_phone = :t WHERE id = :f"), {"t": True, "f": fair_id})
    yield {"base": base, "booth": token, "engine": engine}
    engine.dispose()
    stop_server(proc, env)


def code_sent_to(site, phone: str) -> str:
    """The code as the console backend's outbox row holds it (what the phone would show)."""
    with site["engine"].connect() as conn:
        params = conn.execute(text(
            "SELECT params FROM sms_messages WHERE purpose = 'verify' AND phone = :p ORDER BY id DESC"),
            {"p": phone}).scalar_one()
    return json.loads(params)["code"]


def first_form(page, phone: str) -> None:
    page.locator(".first-form").wait_for()
    page.fill("input[name=name]", "验证码测试")
    page.fill("input[name=phone]", phone)
    page.check("input[name=consent]")


def test_code_step_in_place_then_signed(site, phone):
    number = f"136{random.randrange(10**8):08d}"
    page = phone.new_page()
    page.goto(f"{site['base']}/q/{site['booth']}")
    slot = page.locator(".intent-slot").first
    slot_id = slot.get_attribute("id")
    slot.locator("button.intent-btn").click()
    first_form(page, number)
    page.click(".first-form button[type=submit]")
    page.locator(f"#{slot_id}[data-needs-code]").wait_for()
    page.fill(f"#{slot_id} input[name=code]", "000001" if code_sent_to(site, number) != "000001" else "000002")
    page.click(f"#{slot_id} button[value=check]")
    page.locator(f"#{slot_id} .error", has_text="验证码不对").wait_for()
    page.fill(f"#{slot_id} input[name=code]", code_sent_to(site, number))
    page.click(f"#{slot_id} button[value=check]")
    page.locator(f"#{slot_id} .done").wait_for()


def test_offline_signing_asks_for_the_code_when_back_online(site, phone):
    number = f"135{random.randrange(10**8):08d}"
    page = phone.new_page()
    page.goto(f"{site['base']}/q/{site['booth']}")
    slot = page.locator(".intent-slot").nth(1)
    slot_id = slot.get_attribute("id")
    slot.locator("button.intent-btn").click()
    first_form(page, number)
    phone.set_offline(True)
    page.click(".first-form button[type=submit]")
    page.locator(f"#{slot_id} .fs-kept").wait_for()
    phone.set_offline(False)
    # The kept signing is sent; its answer is the code step, in its place.
    page.locator(f"#{slot_id}[data-needs-code]").wait_for(timeout=20000)
    assert page.evaluate("() => localStorage.getItem('fs-sign-queue')") is None
    page.fill(f"#{slot_id} input[name=code]", code_sent_to(site, number))
    page.click(f"#{slot_id} button[value=check]")
    page.locator(f"#{slot_id} .done").wait_for()
