"""The district tier under a crowd: gunicorn with two workers on a fresh PostgreSQL database,
Redis for events and limits, and 200 returning attendees (each with its device cookie, made
beforehand) tapping "我有意向" at the same moment: on the fair page, then on the job a live
host has just presented. Every tap is confirmed, none fails, and each is stored once.

A request holds at most one pooled connection at a time (fairsite.sql, the export's
batches), so 100 taps per worker queue for the pool instead of deadlocking it.

PostgreSQL and Redis come from FAIRSITE_TEST_DATABASE_URL and FAIRSITE_TEST_REDIS_URL."""
from __future__ import annotations

import http.client
import re
import threading
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, text

from fairsite.app import create_app
from fairsite.extensions import db
from fairsite.intents.device import _serializer
from fairsite.intents.service import add_device, find_or_create_attendee
from fairsite.sql import write_transaction
from tests.servers import REDIS_URL, Staff, fresh_pg_database, need, prepare, serve, site_env

pytestmark = pytest.mark.slow

CROWD = 200
SESSION_ID = 1  # the demo's live session
SECRET = "burst-secret"


@pytest.fixture(scope="module")
def pg_url():
    yield from fresh_pg_database("fairsite_burst")


@pytest.fixture(scope="module")
def redis_url():
    need(REDIS_URL, "FAIRSITE_TEST_REDIS_URL")
    return REDIS_URL


def returning_attendees(database_url: str, n: int) -> list[str]:
    """n attendees who signed before, each with a device: their signed device cookies."""
    app = create_app({"TESTING": True, "SECRET_KEY": SECRET, "DATABASE_URL": database_url})
    with app.app_context():
        with write_transaction():
            tokens = []
            for i in range(n):
                attendee, _ = find_or_create_attendee(f"回访{i}", f"1390000{i:04d}", ["returnee"], "test")
                tokens.append(add_device(attendee.id, full_access=True)[1])
        cookies = [_serializer().dumps(token) for token in tokens]
        db.engine.dispose()
    return cookies


class Phone:
    """One attendee's phone: its device cookie, the page it has open (which gave it a
    session cookie and the CSRF token), one keep-alive connection."""

    def __init__(self, base: str, device_cookie: str, page: str):
        host, port = base.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=60)
        self.cookies = {"fs_device": device_cookie}
        self.conn.request("GET", page, headers={"Cookie": self._cookie()})
        response = self.conn.getresponse()
        html = response.read().decode()
        assert response.status == 200, page
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, value = header.split(";", 1)[0].partition("=")
            self.cookies[name] = value
        self.token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)

    def _cookie(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def connect(self) -> None:
        """A new connection just before the tap: the page's may have been idle past the
        server's keep-alive (5 s) while the rest of the crowd opened theirs."""
        self.conn.close()
        self.conn = http.client.HTTPConnection(self.conn.host, self.conn.port, timeout=60)
        self.conn.connect()

    def tap(self, **where) -> tuple[int, str]:
        self.conn.request("POST", "/intents/sign", body=urllib.parse.urlencode(where), headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": self._cookie(),
            "X-CSRFToken": self.token, "HX-Request": "true"})
        response = self.conn.getresponse()
        return response.status, response.read().decode()


def open_pages(base: str, cookies: list[str], page: str) -> list[Phone]:
    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(lambda c: Phone(base, c, page), cookies))


def all_tap_at_once(phones: list[Phone], **where) -> list[tuple[int, str]]:
    for phone in phones:
        phone.connect()
    barrier = threading.Barrier(len(phones))

    def tap(phone: Phone):
        barrier.wait()
        try:
            return phone.tap(**where)
        except (OSError, http.client.HTTPException) as error:
            return 0, repr(error)

    with ThreadPoolExecutor(len(phones)) as pool:
        return list(pool.map(tap, phones))


def stored(engine, vacancy_id: int, source: str) -> tuple[int, int, int]:
    """(intent rows, distinct attendees, the vacancy's tally) for this vacancy and source."""
    with engine.connect() as conn:
        rows, people = conn.execute(text(
            "SELECT count(*), count(DISTINCT attendee_id) FROM intents "
            "WHERE vacancy_id = :v AND source = :s AND withdrawn_at IS NULL"), {"v": vacancy_id, "s": source}).one()
        tally = conn.execute(text(
            "SELECT n FROM tallies WHERE scope = 'all' AND dim = 'vacancy' AND key = :k"),
            {"k": str(vacancy_id)}).scalar() or 0
    return rows, people, tally


def test_sign_200_returning_attendees_at_once_on_fair_page_and_live_job(tmp_path, pg_url, redis_url):
    env = site_env(pg_url, redis_url, FAIRSITE_WORKERS="2", FAIRSITE_SECRET_KEY=SECRET)
    prepare(env)
    cookies = returning_attendees(pg_url, CROWD)
    engine = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        fair_id = conn.execute(text("SELECT fair_id FROM live_sessions WHERE id = :s"), {"s": SESSION_ID}).scalar()
        # A vacancy of the fair that the live session does not present.
        fair_vacancy = conn.execute(text(
            "SELECT bv.vacancy_id FROM booth_vacancies bv JOIN booths b ON b.id = bv.booth_id "
            "WHERE b.fair_id = :f AND b.status = 'approved' AND bv.vacancy_id NOT IN "
            "(SELECT vacancy_id FROM live_items WHERE session_id = :s) ORDER BY bv.vacancy_id LIMIT 1"),
            {"f": fair_id, "s": SESSION_ID}).scalar()
    server = serve(tmp_path, env)
    try:
        # The fair page. The vacancy may hold intents from the demo's earlier fair already: count
        # what the burst adds.
        before = stored(engine, fair_vacancy, "fair")
        phones = open_pages(server.base, cookies, f"/fairs/{fair_id}")
        answers = all_tap_at_once(phones, fair=fair_id, vacancy_id=fair_vacancy)
        failed = [(code, body[:200]) for code, body in answers if code != 200 or "已登记" not in body]
        assert failed == [], f"{len(failed)} of {CROWD} taps failed: {failed[:3]}"
        after = stored(engine, fair_vacancy, "fair")
        assert tuple(a - b for a, b in zip(after, before, strict=True)) == (CROWD, CROWD, CROWD)

        # A job the host has just presented in the live session.
        host = Staff(server.base)
        host.post(f"/live/{SESSION_ID}/start")
        host.post(f"/live/{SESSION_ID}/present", step="next")
        with engine.connect() as conn:
            presented = conn.execute(text("SELECT current_vacancy_id FROM live_sessions WHERE id = :s"),
                                     {"s": SESSION_ID}).scalar()
        assert presented is not None
        before = stored(engine, presented, "live")
        viewers = open_pages(server.base, cookies, f"/live/{SESSION_ID}")
        answers = all_tap_at_once(viewers, live=SESSION_ID, vacancy_id=presented)
        failed = [(code, body[:200]) for code, body in answers if code != 200 or "已登记" not in body]
        assert failed == [], f"{len(failed)} of {CROWD} taps failed: {failed[:3]}"
        after = stored(engine, presented, "live")
        assert tuple(a - b for a, b in zip(after, before, strict=True)) == (CROWD, CROWD, CROWD)
        log = server.log.read_text()
        assert "Traceback" not in log and "TimeoutError" not in log, log[-3000:]
    finally:
        server.stop()
        engine.dispose()
