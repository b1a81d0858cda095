"""Live sessions: the writes (running order, start, end, "now presenting") and what viewers
see. Every write bumps LiveSession.version in its transaction and returns whether anything
changed; after the commit the caller has fairsite.events render the fragments all viewers
share ONCE and publish them on f"live:{id}" (retained, so a viewer who connects or reconnects
later gets the current state first).

Only a public session (LiveSession.is_public: not taken down by an organiser, run by an
organiser or an approved employer) reaches viewers, and its stream link only when the link
goes to a video platform on the organisers' list (StreamHost)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, delete, func, or_, select, update

from fairsite import i18n
from fairsite.audit.service import record
from fairsite.clock import CST, utcnow
from fairsite.employers.models import APPROVED, Employer
from fairsite.extensions import db
from fairsite.live.models import LiveItem, LiveSession, StreamHost
from fairsite.numbers import parse_id, parse_number
from fairsite.sql import fetch_one, write_transaction
from fairsite.tallies import service as tallies
from fairsite.urls import public_url
from fairsite.vacancies.models import Vacancy
from fairsite.web import render_shared

STATUS_LABELS = {"scheduled": _l("未开始"), "live": _l("直播中"), "ended": _l("已结束")}


def channel(session_id: int, locale: str | None = None) -> str:
    """What viewers subscribe to: one channel per language (the shared fragments are
    rendered once per change in each, fairsite/events.py), the viewer's own by default."""
    locale = locale or i18n.current_locale()
    return f"live:{session_id}" if locale == i18n.DEFAULT.locale else f"live:{session_id}:{locale}"


def viewer_channels(session_id: int) -> list[str]:
    return [channel(session_id, locale) for locale in i18n.LOCALES]


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


def embed_origins() -> tuple[str, ...]:
    """Every origin embed_url can return (live.bilibili.com becomes www.bilibili.com): the
    only frames the Content-Security-Policy lets a page show."""
    return tuple(sorted({f"https://{host}" for host, _prefix in EMBED_PREFIXES}))


def embed_url(stream_url: str) -> str | None:
    """The https address to embed for a stream link, or None when it can only be linked."""
    if not stream_url:
        return None
    parts = urlsplit(stream_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if host == "live.bilibili.com":
        room = parse_number(parts.path.strip("/").split("/")[0], 1, 10**10 - 1)
        if room is not None:
            return f"https://www.bilibili.com/blackboard/live/live-activity-player.html?cid={room}&quality=0"
        return None
    for allowed, prefix in EMBED_PREFIXES:
        if host == allowed and parts.path.startswith(prefix):
            # Rebuilt from the host alone: no user-info or port survives into the page.
            return parts._replace(scheme="https", netloc=host, fragment="").geturl()
    return None


# A stream link is a plain http(s) address: nothing a browser could read differently from
# urlsplit (backslashes, spaces, control characters), and a host alone (no user, no port).
_LINK_UNSAFE = re.compile(r"[\s\\\x00-\x1f\x7f]")
_NETLOC = re.compile(r"[a-z0-9.-]{1,253}")


def stream_host(url: str | None) -> str | None:
    """The host name a stream link goes to, or None if it is not a plain http(s) link."""
    if not url or _LINK_UNSAFE.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # "http://[" (an unfinished IPv6 address) and the like
        return None
    netloc = parts.netloc.lower()
    if parts.scheme not in ("http", "https") or not _NETLOC.fullmatch(netloc):
        return None
    return netloc


def allowed_hosts() -> frozenset[str]:
    """The host names stream links may go to (the organisers keep the list)."""
    return frozenset(db.session.scalars(select(StreamHost.host)))


def save_allowed_hosts(hosts: list[str]) -> None:
    with write_transaction():
        db.session.execute(delete(StreamHost))
        db.session.add_all(StreamHost(host=h) for h in dict.fromkeys(hosts))
        record("live.platforms", None, None, " ".join(hosts))


def stream_context(session: LiveSession) -> dict:
    """The viewer page's link to the stream and its embedded player: only for a platform on
    the list (the list may have changed since the link was saved)."""
    if stream_host(session.stream_url) not in allowed_hosts():
        return dict(stream_link=None, embed=None)
    return dict(stream_link=session.stream_url, embed=embed_url(session.stream_url))


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
        by_vacancy={parse_id(k): n for k, n in t.get("vacancy", {}).items() if parse_id(k)},
    )


def viewer_context(session: LiveSession) -> dict:
    # A session taken off the public site shows its viewers (those still connected) nothing
    # but that (live/_card.html).
    items = order(session.id) if session.is_public else []
    current = next((i for i in items if i.vacancy.id == session.current_vacancy_id), None)
    return dict(s=session, items=items, current=current, counts=counts(session.id),
                status_labels=STATUS_LABELS)


def render_state(session: LiveSession) -> dict[str, str]:
    """The fragments every viewer shares, by SSE event name (rendered once per change, for
    everybody: see fairsite.events.live_changed)."""
    ctx = viewer_context(session)
    return {
        "card": render_shared_fragment("live/_card.html", **ctx),
        "order": render_shared_fragment("live/_order.html", **ctx),
        "counts": render_counts(session),
    }


def render_counts(session: LiveSession) -> str:
    ctx = dict(s=session, counts=counts(session.id), current=_current_item(session))
    return render_shared_fragment("live/_counts.html", **ctx)


def render_shared_fragment(template: str, **context) -> str:
    """A fragment sent to thousands: runs of whitespace between tags become one space (the
    same rendering), and the fragment one SSE data line instead of a hundred. An empty CSRF
    token: each viewer's htmx request carries its own in the X-CSRFToken header."""
    return _BETWEEN_TAGS.sub("> <", render_shared(template, "", **context)).strip()


_BETWEEN_TAGS = re.compile(r">\s+<")


def viewer_url(session: LiveSession) -> str:
    """The short link printed under the session's QR code and read out by the host."""
    return public_url("live.short", session_id=session.id)


def _current_item(session: LiveSession) -> Item | None:
    if session.current_vacancy_id is None:
        return None
    v = db.session.get(Vacancy, session.current_vacancy_id)
    return Item(v, v.employer.name, 0, True) if v else None


# Plain SQL on the connection: this runs on every poll of every polling viewer, and building
# the ORM statement cost more than running it. Only a public session has one (is_public).
_ETAG_SQL = (
    "SELECT s.version, (SELECT n FROM tallies WHERE scope = :scope AND dim = 'version' AND key = '') "
    "FROM live_sessions s LEFT JOIN employers e ON e.id = s.employer_id "
    "WHERE s.id = :id AND NOT s.taken_down AND (s.employer_id IS NULL OR e.status = 'approved')"
)


def etag(session_id: int) -> str | None:
    """The viewer state's version, read without rendering, in one query: the session's
    version and its counters' version. None if the session does not exist or is not public."""
    row = fetch_one(_ETAG_SQL, {"scope": f"live:{session_id}", "id": session_id})
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


def start(session_id: int) -> bool:
    with write_transaction():
        s = _locked(session_id)
        if s.status == "ended":
            raise LiveError(_("直播已结束，不能再次开始"))
        if s.status == "live":
            return False
        if s.taken_down:
            raise LiveError(_("这场直播已被主办方下线，不能开始"))
        if s.employer is not None and not s.employer.is_approved:
            raise LiveError(_("企业通过主办方审核后才能开始直播，请等待审核"))
        s.status = "live"
        s.started_at = utcnow()
        _bump(s)
    return True


def end(session_id: int) -> bool:
    with write_transaction():
        s = _locked(session_id)
        if s.status == "ended":
            return False
        s.status = "ended"
        s.ended_at = utcnow()
        s.current_vacancy_id = None
        _bump(s)
    return True


def present(session_id: int, vacancy_id: int | None = None, step: int = 0) -> bool:
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
            return False
        s.current_vacancy_id = vacancy_id
        db.session.execute(
            update(LiveItem)
            .where(LiveItem.session_id == session_id, LiveItem.vacancy_id == vacancy_id,
                   LiveItem.presented_at.is_(None))
            .values(presented_at=utcnow())
        )
        _bump(s)
    return True


def add_item(session_id: int, vacancy_id: int) -> bool:
    with write_transaction():
        s = _locked(session_id)
        exists = db.session.get(LiveItem, (session_id, vacancy_id))
        if exists is not None:
            return False
        last = db.session.scalar(
            select(func.max(LiveItem.position)).where(LiveItem.session_id == session_id)
        )
        db.session.add(LiveItem(session_id=session_id, vacancy_id=vacancy_id,
                                position=(last + 1) if last is not None else 0))
        _bump(s)
    return True


def remove_item(session_id: int, vacancy_id: int) -> bool:
    with write_transaction():
        s = _locked(session_id)
        item = db.session.get(LiveItem, (session_id, vacancy_id))
        if item is None:
            return False
        if s.current_vacancy_id == vacancy_id:
            raise LiveError(_("正在介绍的岗位不能移出节目单，请先切换到其他岗位"))
        db.session.delete(item)
        _bump(s)
    return True


def move_item(session_id: int, vacancy_id: int, delta: int) -> bool:
    """Move a vacancy up (delta -1) or down (+1) in the running order."""
    with write_transaction():
        s = _locked(session_id)
        items = list(db.session.scalars(
            select(LiveItem).where(LiveItem.session_id == session_id)
            .order_by(LiveItem.position, LiveItem.vacancy_id)
        ))
        ids = [i.vacancy_id for i in items]
        if vacancy_id not in ids:
            return False
        i = ids.index(vacancy_id)
        j = i + delta
        if not 0 <= j < len(items):
            return False
        items[i], items[j] = items[j], items[i]
        for pos, item in enumerate(items):
            item.position = pos
        _bump(s)
    return True


def take_down(session_id: int, down: bool) -> bool:
    """An organiser takes a session off the public site (下线), or brings it back."""
    with write_transaction():
        s = _locked(session_id)
        if s.taken_down == down:
            return False
        s.taken_down = down
        _bump(s)
        record("live.take_down" if down else "live.bring_back", "live_session", s.id, s.title)
    return True


def save_details(session: LiveSession, data: dict) -> bool:
    """Create or update a session's details from validated form data."""
    with write_transaction():
        if session.id is None:
            db.session.add(session)
        for key, value in data.items():
            setattr(session, key, value)
        _bump(session)
    return True


def now_and_next(limit: int = 6) -> list[LiveSession]:
    """The home page's "直播带岗" list: public sessions live now, then those still to come
    (scheduled from the start of today in Beijing on, or with no time set), soonest first."""
    since = (utcnow() + CST).replace(hour=0, minute=0, second=0, microsecond=0) - CST
    approved = or_(LiveSession.employer_id.is_(None),
                   LiveSession.employer.has(Employer.status == APPROVED))
    upcoming = and_(LiveSession.status == "scheduled",
                    or_(LiveSession.scheduled_at.is_(None), LiveSession.scheduled_at >= since))
    return list(db.session.scalars(
        select(LiveSession)
        .where(LiveSession.taken_down.is_(False), approved, or_(LiveSession.status == "live", upcoming))
        .order_by(case((LiveSession.status == "live", 0), else_=1),
                  LiveSession.scheduled_at.is_(None), LiveSession.scheduled_at, LiveSession.id)
        .limit(limit)
    ))
