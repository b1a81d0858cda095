"""The organiser's tally board: numbers from counters, a fragment with ETag/304 that checks
the version before anything else, an event stream, and agreement with the database."""
import re

import pytest
from sqlalchemy import event, func, select, text

from fairsite.booths.models import Booth
from fairsite.extensions import db
from fairsite.fairs.models import Fair
from fairsite.intents.models import Attendee, Intent
from fairsite.tallies import service as tallies
from fairsite.tallies.models import FairAttendee


@pytest.fixture(autouse=True)
def steady_etag(monkeypatch):
    # The board's ETag also turns over every minute; tests must not straddle a minute.
    monkeypatch.setattr("fairsite.tallies.manage.ETAG_PERIOD", 10**9)


class Statements:
    """The SQL statements run while the block is open."""

    def __enter__(self):
        self.sql = []
        event.listen(db.engine, "before_cursor_execute", self._record)
        return self

    def _record(self, conn, cursor, statement, *args):
        self.sql.append(statement)

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self._record)


def number(page, key):
    return re.search(rf'id="tally-{key}">([\d,]+)<', page).group(1)


def test_board_shows_big_numbers_from_counters(client, login_as, make_booth, make_employer, make_vacancy, make_fair, make_intent):
    fair = make_fair()
    e = make_employer(name="华兴电子科技有限公司")
    booth = make_booth(fair=fair, employer=e, number="A-01",
                       vacancies=[make_vacancy(e, headcount=20, pay_min=4000, pay_max=6000)])
    make_intent(booth, phone="13800000001", groups=["graduate"])
    make_intent(booth, phone="13800000002", groups=["returnee", "poverty"], source="desk")
    login_as("organiser")
    page = client.get(f"/manage/fairs/{fair.id}/board").get_data(as_text=True)
    assert number(page, "employers") == "1" and number(page, "posts") == "20"
    assert number(page, "pay") == "5,000"
    assert number(page, "attendees") == "2" and number(page, "intents") == "2"
    assert "华兴电子科技有限公司" in page and "A-01" in page
    assert "<svg" in page and "hours-chart" in page
    assert 'sse-connect="/manage/fairs/' in page and "htmx-ext-sse-2.2.4.min." in page  # hashed name


def test_tally_fragment_answers_304_until_an_intent_moves_the_counters(client, hx, login_as, make_booth, make_intent):
    booth = make_booth(vacancies=2)
    login_as("organiser")
    url = f"/manage/fairs/{booth.fair_id}/board/tally"
    first = hx.get(url)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and first.get_data(as_text=True).lstrip().startswith(f'<div id="tally-{booth.fair_id}"')
    # private: a staff response no proxy keeps; no-cache: the browser asks with the ETag.
    assert "HX-Request" in first.headers["Vary"] and first.headers["Cache-Control"] == "private, no-cache"
    again = hx.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    make_intent(booth, phone="13800000003")
    changed = hx.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert number(changed.get_data(as_text=True), "intents") == "1"


def test_tally_fragment_checks_version_before_any_other_query(client, hx, login_as, make_booth):
    booth = make_booth()
    login_as("organiser")
    url = f"/manage/fairs/{booth.fair_id}/board/tally"
    etag = hx.get(url).headers["ETag"]
    with Statements() as run:
        assert hx.get(url, headers={"If-None-Match": etag}).status_code == 304
    domain = [s for s in run.sql if "FROM users" not in s]
    assert len(domain) == 1 and "tallies" in domain[0]


def test_tally_fragment_never_counts_intents(client, hx, login_as, make_booth, make_intent):
    booth = make_booth(vacancies=3)
    for i in range(5):
        make_intent(booth, booth.vacancies[i % 3], phone=f"1380000010{i}")
    login_as("organiser")
    with Statements() as run:
        body = hx.get(f"/manage/fairs/{booth.fair_id}/board/tally").get_data(as_text=True)
    assert number(body, "intents") == "5"
    assert not [s for s in run.sql if re.search(r"\bintents\b", s)]
    assert len(run.sql) <= 8


def test_booth_approval_moves_the_board_on(client, hx, login_as, make_fair, make_booth):
    fair = make_fair()
    booth = make_booth(fair=fair, status="applied")
    login_as("organiser")
    url = f"/manage/fairs/{fair.id}/board/tally"
    before = hx.get(url)
    assert number(before.get_data(as_text=True), "employers") == "0"
    hx.post(f"/manage/booths/{booth.id}/approve", data={"zone": "A"})
    after = hx.get(url, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and number(after.get_data(as_text=True), "employers") == "1"


def test_stream_is_server_sent_events(client, login_as, make_fair):
    fair = make_fair()
    login_as("organiser")
    response = client.get(f"/manage/fairs/{fair.id}/board/stream", buffered=False)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert next(iter(response.response)).startswith(b": connected")
    response.close()


def test_tally_numbers_equal_database_counts_after_simulated_day(app, client, login_as):
    from fairsite.demo import build_demo, simulate_day

    build_demo()
    assert simulate_day() == 1200
    fair = db.session.scalar(select(Fair))
    counts = tallies.read(f"fair:{fair.id}")
    live = select(Intent).where(Intent.fair_id == fair.id, Intent.withdrawn_at.is_(None)).subquery()
    assert counts["intents"][""] == db.session.scalar(select(func.count()).select_from(live))
    assert counts["attendees"][""] == db.session.scalar(
        select(func.count(func.distinct(live.c.attendee_id)))) == 1200
    assert counts["attendees"][""] == db.session.scalar(
        select(func.count()).select_from(FairAttendee).where(FairAttendee.fair_id == fair.id))
    for dim, column in (("employer", live.c.employer_id), ("source", live.c.source)):
        truth = {str(k): n for k, n in db.session.execute(select(column, func.count()).group_by(column))}
        assert {k: n for k, n in counts[dim].items() if n} == truth, dim
    for code, n in counts["group"].items():
        truth = db.session.scalar(
            select(func.count()).select_from(live).join(Attendee, Attendee.id == live.c.attendee_id)
            .where(("," + Attendee.groups + ",").like(f"%,{code},%")))
        assert n == truth, code
    hour = ("CAST(EXTRACT(HOUR FROM created_at + INTERVAL '8 hours') AS INTEGER)"
            if db.engine.dialect.name == "postgresql" else "CAST(strftime('%H', created_at, '+8 hours') AS INTEGER)")
    truth = {f"{h:02d}": n for h, n in db.session.execute(text(
        f"SELECT {hour}, count(*) FROM intents WHERE fair_id = :f AND withdrawn_at IS NULL GROUP BY 1"), {"f": fair.id})}
    assert {k: n for k, n in counts["hour"].items() if n} == truth
    # And the board shows exactly those numbers, with the fair's offer from DOMAIN.md.
    login_as("organiser")
    page = client.get(f"/manage/fairs/{fair.id}/board").get_data(as_text=True)
    assert number(page, "intents") == f"{counts['intents']['']:,}"
    assert number(page, "attendees") == "1,200"
    assert (number(page, "employers"), number(page, "posts"), number(page, "pay")) == ("120", "5,271", "4,000")
    approved = db.session.scalar(select(func.count()).select_from(Booth).where(
            Booth.fair_id == fair.id, Booth.status == "approved"))
    assert approved == 120


@pytest.mark.parametrize("opens,closes,expected", [((8, 30), (16, 30), list(range(8, 17))),
                                                   ((18, 0), (21, 0), [18, 19, 20])])
def test_board_hour_range_follows_opening_hours(make_fair, opens, closes, expected):
    from datetime import time

    from fairsite.tallies.board import hour_range

    fair = make_fair(opens_at=time(*opens), closes_at=time(*closes))
    assert hour_range(fair, {}) == expected
    assert hour_range(fair, {"07": 2})[0] == 7
