"""Live sessions: the writes (running order, start, end, "now presenting") and what viewers
see. Every write bumps LiveSession.version in its transaction; after the commit the
fragments all viewers share are rendered ONCE and published on f"live:{id}" (retained, so a
viewer who connects or reconnects later gets the current state first)."""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app, has_request_context, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, text, update

from fairsite import pubsub
from fairsite.database import utcnow, write_transaction
from fairsite.employers.models import Employer
from fairsite.extensions import db
from fairsite.live.models import LiveItem, LiveSession
from fairsite.tallies import service as tallies
from fairsite.vacancies.models import Vacancy

STATUS_LABELS = {"scheduled": _l("未开始"), "live": _l("直播中"), "ended": _l("已结束")}


def channel(session_id: int) -> str:
    """What viewers subscribe to."""
    return f"live:{session_id}"


def host_channel(session_id: int) -> str:
    """What host consoles subscribe to (kept apart so hosts are not counted as viewers)."""
    return f"live-host:{session_id}"


# Video platforms whose pages can be shown in an <iframe>. Anything else is just a link
# (Douyin, Kuaishou and WeChat Channels pages refuse to be embedded).
EMBED_PREFIXES = (
    ("player.bilibili.com", "/player.html"),
    ("www.bilibili.com", "/blackboard/live/"),
    ("v.qq.com", "/txp/iframe/"),
    ("player.youku.com", "/embed/"),
)


def embed_url(stream_url: str) -> str | None:
    """The https address to embed for a stream link, or None when it can only be linked."""
    if not stream_url:
        return None
    parts = urlsplit(stream_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if host == "live.bilibili.com":
        room = parts.path.strip("/").split("/")[0]
        if room.isdigit():
            return f"https://www.bilibili.com/blackboard/live/live-activity-player.html?cid={room}&quality=0"
        return None
    for allowed, prefix in EMBED_PREFIXES:
        if host == allowed and parts.path.startswith(prefix):
            # Rebuilt from the host alone: no user-info or port survives into the page.
            return parts._replace(scheme="https", netloc=host, fragment="").geturl()
    return None


@dataclass(frozen=True)
class Item:
    vacancy: Vacancy
    employer_name: str
    position: int
    presented: bool


def order(session_id: int) -> list[Item]:
    rows = db.session.execute(
        select(LiveItem.position, LiveItem.presented_at, Vacancy, Employer.name)
        .join(Vacancy, Vacancy.id == LiveItem.vacancy_id)
        .join(Employer, Employer.id == Vacancy.employer_id)
        .where(LiveItem.session_id == session_id)
        .order_by(LiveItem.position, LiveItem.vacancy_id)
    ).all()
    return [Item(v, name, pos, presented_at is not None) for pos, presented_at, v, name in rows]


@dataclass(frozen=True)
class Counts:
    total: int
    by_vacancy: dict[int, int]

    def of(self, vacancy_id: int | None) -> int:
        return self.by_vacancy.get(vacancy_id or 0, 0)


def counts(session_id: int) -> Counts:
    t = tallies.read(f"live:{session_id}")
    return Counts(
        total=t.get("intents", {}).get("", 0),
        by_vacancy={int(k): n for k, n in t.get("vacancy", {}).items() if k.isdigit()},
    )


def viewer_context(session: LiveSession) -> dict:
    items = order(session.id)
    current = next((i for i in items if i.vacancy.id == session.current_vacancy_id), None)
    return dict(s=session, items=items, current=current, counts=counts(session.id),
                embed=embed_url(session.stream_url), status_labels=STATUS_LABELS)


# --- rendering once, publishing after commit ---------------------------------------------

def _base_url() -> str | None:
    """Host and script root of the request that caused a change, so URLs come out right."""
    return request.host_url.rstrip("/") + request.script_root if has_request_context() else None


def _render_shared(template: str, base: str | None = None, **context) -> str:
    """Render a fragment every viewer gets, outside the request that caused it: no current
    user, no CSRF token (htmx sends each viewer's own token in a header), no per-viewer state."""
    with current_app.test_request_context("/", base_url=base or _base_url()):
        # An empty token: each viewer's htmx request carries its own in the X-CSRFToken header.
        html = render_template(template, shared=True, csrf_token=lambda: "", **context)
    # Sent to thousands: runs of whitespace between tags become one space (the same rendering),
    # and the fragment one SSE data line instead of a hundred.
    return _BETWEEN_TAGS.sub("> <", html).strip()


_BETWEEN_TAGS = re.compile(r">\s+<")


def render_state(session: LiveSession) -> dict[str, str]:
    """The fragments every viewer shares, by SSE event name."""
    ctx = viewer_context(session)
    return {
        "card": _render_shared("live/_card.html", **ctx),
        "order": _render_shared("live/_order.html", **ctx),
        "counts": _render_shared("live/_counts.html", **ctx),
    }


def publish_state(session_id: int) -> None:
    """After a commit that changed what viewers see: render once, send to all."""
    db.session.expire_all()
    session = db.session.get(LiveSession, session_id)
    if session is None:
        return
    # One message carrying the three events: one wake-up and one write per viewer.
    pubsub.publish_many(channel(session_id), list(render_state(session).items()), retain=True)
    pubsub.publish(host_channel(session_id), "tally")


def prime(session: LiveSession) -> None:
    """Make sure this process can hand new subscribers the current state (after a restart,
    before any change): rendered once per process, not per viewer."""
    if pubsub.retained(channel(session.id)):
        return
    for event, html in render_state(session).items():
        pubsub.keep_local(channel(session.id), event, html)


# Counts go out at most once a second per session and process: at a viral moment dozens of
# people sign each second, and each publish is a delivery to every viewer.
class _CountsThrottle:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last: dict[int, float] = {}
        self.pending: set[int] = set()


def _throttle() -> _CountsThrottle:
    return current_app.extensions.setdefault("fairsite.live_counts", _CountsThrottle())


def counts_changed(session_id: int) -> None:
    """An intent of this session was signed or withdrawn (called after the commit). Publishes
    the new counts now, or, if they went out less than LIVE_COUNTS_EVERY seconds ago, once
    more when that time is up (reading the counts then, so nothing is lost)."""
    every = float(current_app.config.get("LIVE_COUNTS_EVERY", 1.0))
    state = _throttle()
    now = time.monotonic()
    with state.lock:
        if session_id in state.pending:
            return  # a publish is already due; it will read the newest counts
        wait = state.last.get(session_id, now - every) + every - now
        if wait > 0:
            state.pending.add(session_id)
        else:
            state.last[session_id] = now
    if wait <= 0:
        _publish_counts(session_id, _base_url())
        return
    app, base = current_app._get_current_object(), _base_url()

    def later() -> None:
        with app.app_context():
            with state.lock:
                state.pending.discard(session_id)
                state.last[session_id] = time.monotonic()
            try:
                _publish_counts(session_id, base)
            finally:
                db.session.remove()

    timer = threading.Timer(wait, later)
    timer.daemon = True
    timer.start()


def _publish_counts(session_id: int, base: str | None) -> None:
    session = db.session.get(LiveSession, session_id)
    if session is None:
        return
    ctx = dict(s=session, counts=counts(session_id), current=_current_item(session))
    pubsub.publish(channel(session_id), "counts",
                   _render_shared("live/_counts.html", base=base, **ctx), retain=True)
    pubsub.publish(host_channel(session_id), "tally")


def _current_item(session: LiveSession) -> Item | None:
    if session.current_vacancy_id is None:
        return None
    v = db.session.get(Vacancy, session.current_vacancy_id)
    return Item(v, v.employer.name, 0, True) if v else None


# Plain SQL on the connection: this runs on every poll of every polling viewer, and building
# the ORM statement cost more than running it.
_ETAG_SQL = text(
    "SELECT version, (SELECT n FROM tallies WHERE scope = :scope AND dim = 'version' AND key = '') "
    "FROM live_sessions WHERE id = :id"
)


def etag(session_id: int) -> str | None:
    """The viewer state's version, read without rendering, in one query: the session's
    version and its counters' version. None if the session does not exist."""
    row = db.session.connection().execute(
        _ETAG_SQL, {"scope": f"live:{session_id}", "id": session_id}
    ).first()
    if row is None:
        return None
    return f"live-{session_id}-{row[0]}-{row[1] or 0}"


# --- writes -----------------------------------------------------------------------------

class LiveError(Exception):
    """A write that the session's state does not allow; the message is for the user."""


def _locked(session_id: int) -> LiveSession:
    session = db.session.get(LiveSession, session_id, populate_existing=True)
    if session is None:
        raise LiveError(_("直播不存在"))
    return session


def _bump(session: LiveSession) -> None:
    session.version = (session.version or 0) + 1


def start(session_id: int) -> None:
    with write_transaction():
        s = _locked(session_id)
        if s.status == "ended":
            raise LiveError(_("直播已结束，不能再次开始"))
        if s.status == "live":
            return
        s.status = "live"
        s.started_at = utcnow()
        _bump(s)
    publish_state(session_id)


def end(session_id: int) -> None:
    with write_transaction():
        s = _locked(session_id)
        if s.status == "ended":
            return
        s.status = "ended"
        s.ended_at = utcnow()
        s.current_vacancy_id = None
        _bump(s)
    publish_state(session_id)


def present(session_id: int, vacancy_id: int | None = None, step: int = 0) -> None:
    """Present `vacancy_id`, or move `step` places along the running order."""
    with write_transaction():
        s = _locked(session_id)
        if s.status != "live":
            raise LiveError(_("直播开始后才能切换岗位"))
        ids = list(db.session.scalars(
            select(LiveItem.vacancy_id).where(LiveItem.session_id == session_id)
            .order_by(LiveItem.position, LiveItem.vacancy_id)
        ))
        if not ids:
            raise LiveError(_("节目单还是空的"))
        if vacancy_id is None:
            if s.current_vacancy_id in ids:
                i = max(0, min(len(ids) - 1, ids.index(s.current_vacancy_id) + step))
            else:
                i = 0 if step >= 0 else len(ids) - 1
            vacancy_id = ids[i]
        elif vacancy_id not in ids:
            raise LiveError(_("这个岗位不在节目单上"))
        if vacancy_id == s.current_vacancy_id:
            return
        s.current_vacancy_id = vacancy_id
        db.session.execute(
            update(LiveItem)
            .where(LiveItem.session_id == session_id, LiveItem.vacancy_id == vacancy_id,
                   LiveItem.presented_at.is_(None))
            .values(presented_at=utcnow())
        )
        _bump(s)
    publish_state(session_id)


def add_item(session_id: int, vacancy_id: int) -> None:
    with write_transaction():
        s = _locked(session_id)
        exists = db.session.get(LiveItem, (session_id, vacancy_id))
        if exists is not None:
            return
        last = db.session.scalar(
            select(func.max(LiveItem.position)).where(LiveItem.session_id == session_id)
        )
        db.session.add(LiveItem(session_id=session_id, vacancy_id=vacancy_id,
                                position=(last + 1) if last is not None else 0))
        _bump(s)
    publish_state(session_id)


def remove_item(session_id: int, vacancy_id: int) -> None:
    with write_transaction():
        s = _locked(session_id)
        item = db.session.get(LiveItem, (session_id, vacancy_id))
        if item is None:
            return
        if s.current_vacancy_id == vacancy_id:
            raise LiveError(_("正在介绍的岗位不能移出节目单，请先切换到其他岗位"))
        db.session.delete(item)
        _bump(s)
    publish_state(session_id)


def move_item(session_id: int, vacancy_id: int, delta: int) -> None:
    """Move a vacancy up (delta -1) or down (+1) in the running order."""
    with write_transaction():
        s = _locked(session_id)
        items = list(db.session.scalars(
            select(LiveItem).where(LiveItem.session_id == session_id)
            .order_by(LiveItem.position, LiveItem.vacancy_id)
        ))
        ids = [i.vacancy_id for i in items]
        if vacancy_id not in ids:
            return
        i = ids.index(vacancy_id)
        j = i + delta
        if not 0 <= j < len(items):
            return
        items[i], items[j] = items[j], items[i]
        for pos, item in enumerate(items):
            item.position = pos
        _bump(s)
    publish_state(session_id)


def save_details(session: LiveSession, data: dict) -> None:
    """Create or update a session's details from validated form data."""
    with write_transaction():
        if session.id is None:
            db.session.add(session)
        for key, value in data.items():
            setattr(session, key, value)
        _bump(session)
    publish_state(session.id)
