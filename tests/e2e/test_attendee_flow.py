"""The attendee's whole path on a phone (390x844, zh-CN): open a booth QR link, sign the first
intent through the form, sign a second with one tap, withdraw one on /me."""
import pytest
from sqlalchemy import create_engine, text

from tests.e2e.conftest import BACKENDS, shot, start_server, stop_server


@pytest.fixture(scope="module", params=BACKENDS)
def attendee_server(request, tmp_path_factory):
    """A server of our own (as live_server, but we need its database to find a booth token: the
    token is only ever printed on a poster)."""
    proc, base, env = start_server(tmp_path_factory.mktemp("attendee"), backend=request.param)
    engine = create_engine(env["FAIRSITE_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        token = conn.execute(text(
            "SELECT b.token FROM booths b JOIN booth_vacancies bv ON bv.booth_id = b.id "
            "WHERE b.status = 'approved' GROUP BY b.id, b.token HAVING COUNT(*) >= 2 ORDER BY b.id LIMIT 1"
        )).scalar_one()
    engine.dispose()
    yield base, token
    stop_server(proc, env)


def test_attendee_signs_two_intents_and_withdraws_one(attendee_server, phone):
    base, token = attendee_server
    page = phone.new_page()
    page.goto(f"{base}/q/{token}")
    assert page.locator(".big-no").inner_text().strip()
    font = page.evaluate("getComputedStyle(document.querySelector('.vacancy .pay')).fontSize")
    assert float(font.rstrip("px")) >= 24
    shot(page, "attendee-booth-phone")

    page.evaluate("window.__sameDocument = true")
    buttons = page.locator("button.intent-btn")
    assert buttons.count() >= 2
    buttons.first.click()
    form = page.locator(".first-form")
    form.wait_for()
    page.fill("input[name=name]", "王建国")
    page.fill("input[name=phone]", "138 0013 8000")
    page.click("text=返乡农民工")
    shot(page, "attendee-form-phone")
    page.click("button:has-text('确认登记')")
    # Without the consent ticked, nothing is stored and the form says why.
    page.locator("text=请勾选同意").wait_for()
    assert page.input_value("input[name=phone]") == "138 0013 8000"
    page.check("input[name=consent]")
    page.click("button:has-text('确认登记')")
    page.locator(".intent-slot .done").first.wait_for()
    assert "打电话联系您" in page.locator(".next-steps").first.inner_text()
    page.wait_for_timeout(400)  # let the swap settle before the picture
    assert page.locator(".intent-slot .done").first.is_visible()
    shot(page, "attendee-signed-phone")

    # The second: one tap, in place.
    page.locator("button.intent-btn").first.click()
    page.wait_for_function("() => document.querySelectorAll('.intent-slot .done').length >= 2")
    assert page.evaluate("window.__sameDocument") is True  # no page load happened

    page.click("text=我的登记")
    page.wait_for_url("**/me")
    items = page.locator(".my-intent")
    assert items.count() == 2
    shot(page, "attendee-me-phone")
    page.on("dialog", lambda d: d.accept())
    items.first.locator("button:has-text('撤回')").click()
    page.locator(".my-intent.withdrawn").wait_for()
    assert page.locator(".my-intent.withdrawn").count() == 1
    assert "已撤回" in page.locator(".my-intent.withdrawn").inner_text()
    shot(page, "attendee-withdrawn-phone")
