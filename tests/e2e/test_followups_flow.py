"""The bureau's follow-up on an office screen (1280x800): the demo's call list, an outcome
recorded in place (the person leaves the list, the count drops, no reload), then their file."""
from tests.e2e.conftest import login, shot

ORGANISER = ("organiser@demo.fairsite.cn", "demo-organiser")


def _total(page) -> int:
    return int("".join(c for c in page.inner_text("#followup-queue-total") if c.isdigit()))


def test_call_list_outcome_recorded_in_place_then_the_persons_file(live_server, tablet):
    page = tablet.new_page()
    login(page, live_server, *ORGANISER)
    page.click("nav.topnav >> text=跟进回访")
    page.wait_for_selector("#followup-queue .queue-person")
    shot(page, "followups-call-list")
    before = _total(page)
    assert before > 0
    row = page.locator("#followup-queue .queue-person").first
    row_id = row.get_attribute("id")
    page.evaluate("() => { window.__sameDocument = true; }")
    row.locator("input[name=outcome]").fill("已电话联系，本人下周一去面试")
    row.locator("button[type=submit]").click()
    page.wait_for_selector(f"#{row_id}.done-row")
    assert "已记录回访，移出队列" in page.inner_text(f"#{row_id}")
    assert _total(page) == before - 1
    assert page.evaluate("() => window.__sameDocument") is True  # swapped in place, no reload

    page.click(f"#{row_id} >> text=查看档案")
    page.wait_for_selector("#followup-notes")
    assert "已电话联系，本人下周一去面试" in page.inner_text("#followup-notes")
    assert page.locator(".person-phone a.phone").count() == 1
    assert page.locator("#person-intents tbody tr").count() >= 1
    shot(page, "followups-person-file")

    # A note from the file itself, without leaving the page.
    page.fill("#followup-notes input[name=outcome]", "本人已到岗，回访结束")
    page.click("#followup-notes button[type=submit]")
    page.wait_for_selector("#followup-notes .saved")
    assert page.locator("#followup-notes .followup-list li").count() == 2
