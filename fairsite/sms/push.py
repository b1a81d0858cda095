"""Vacancy pushes (精准推送): an organiser sends a fair's or a live session's announcement by
text to the jobseekers who opted in (a separate consent at signing, its version stored),
chosen by key group, the categories of their earlier intents and the fair they signed at.

- One text per person per announcement, ever (the outbox key "push:<fair|live>:<id>:<person>"):
  sending the same announcement again reaches only people it has not reached.
- Each text carries a personal short link, /s/<token>: a random nonce and its keyed signature,
  never a phone number or an id. Opening it the first time recognises the person on that phone
  (the device cookie), so signing is one tap; the link works once for that.
- Each text says how to stop: reply TD (handled where Aliyun reports replies), or the same
  link with /td. Stopping clears the consent's effect at once; nobody stopped or without
  consent is ever in an audience."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app, url_for
from sqlalchemy import Select, and_, exists, func, literal, or_, select, update

from fairsite.booths.models import Booth
from fairsite.clock import utcnow
from fairsite.extensions import db
from fairsite.fairs.models import Fair
from fairsite.intents.models import KEY_GROUPS, Attendee, Intent
from fairsite.live.models import LiveItem, LiveSession
from fairsite.sms import service
from fairsite.sms.models import Push, PushLink
from fairsite.sql import fetch_one, write_transaction
from fairsite.vacancies.models import CATEGORIES, Vacancy

_NONCE_BYTES = 9   # 12 characters
_SIG_BYTES = 6     # 8 characters


def record_consent(attendee_id: int, now: datetime | None = None) -> None:
    """Inside the signing's transaction (the group-commit writer: plain SQL, ids only)."""
    fetch_one(
        "UPDATE attendees SET push_consent_version = :v, push_consent_at = :now, "
        "push_stopped_at = NULL WHERE id = :id RETURNING id",
        {"v": current_app.config["PUSH_CONSENT_VERSION"], "now": now or utcnow(), "id": attendee_id},
    )


def stop(attendee_id: int) -> bool:
    """Stop the pushes to this person (own transaction). Whether they were on."""
    with write_transaction():
        return bool(db.session.execute(
            update(Attendee).where(Attendee.id == attendee_id, Attendee.push_stopped_at.is_(None),
                                   Attendee.push_consent_version.is_not(None))
            .values(push_stopped_at=utcnow())).rowcount)


def stop_phone(phone: str) -> bool:
    """A reply "TD" from this number."""
    attendee_id = db.session.scalar(select(Attendee.id).where(Attendee.phone == phone))
    return stop(attendee_id) if attendee_id is not None else False


def subscribed(attendee: Attendee) -> bool:
    return attendee.push_consent_version is not None and attendee.push_stopped_at is None \
        and attendee.purged_at is None


# ---- the short link's token -------------------------------------------------------------

def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _signature(nonce: str) -> str:
    secret = current_app.config["SECRET_KEY"]
    secret = secret if isinstance(secret, bytes) else str(secret).encode()
    return _b64(hmac.new(secret, f"push-link:{nonce}".encode(), hashlib.sha256).digest()[:_SIG_BYTES])


def new_token() -> tuple[str, str]:
    """(nonce, token)."""
    nonce = _b64(secrets.token_bytes(_NONCE_BYTES))
    return nonce, nonce + _signature(nonce)


def nonce_of(token) -> str | None:
    """The nonce of a well-formed token whose signature holds, else None (checked before any
    query: a guessed or altered token costs no database read)."""
    if not isinstance(token, str) or len(token) != 20:
        return None
    nonce, signature = token[:12], token[12:]
    if not all(c.isascii() and (c.isalnum() or c in "-_") for c in token):
        return None
    return nonce if hmac.compare_digest(signature, _signature(nonce)) else None


# ---- what is announced ------------------------------------------------------------------

@dataclass
class Target:
    kind: str  # fair / live
    id: int
    title: str
    posts: int

    @property
    def url_endpoint(self) -> tuple[str, dict]:
        if self.kind == "fair":
            return "fairs.show", {"fair_id": self.id}
        return "live.show", {"session_id": self.id}


def targets() -> list[Target]:
    """What may be announced: fairs the public can see and sign at, live sessions not ended."""
    out = []
    fair_posts = dict(db.session.execute(
        select(Booth.fair_id, func.coalesce(func.sum(Booth.posts), 0))
        .where(Booth.status == "approved").group_by(Booth.fair_id)).all())
    for fair in db.session.scalars(select(Fair).where(Fair.status.in_(("published", "open")))
                                   .order_by(Fair.date.desc(), Fair.id.desc()).limit(50)):
        out.append(Target("fair", fair.id, fair.title, int(fair_posts.get(fair.id, 0))))
    for session in db.session.scalars(select(LiveSession).where(LiveSession.status != "ended")
                                      .order_by(LiveSession.id.desc()).limit(50)):
        if session.is_public:
            posts = db.session.scalar(
                select(func.coalesce(func.sum(Vacancy.headcount), 0))
                .join(LiveItem, LiveItem.vacancy_id == Vacancy.id)
                .where(LiveItem.session_id == session.id))
            out.append(Target("live", session.id, session.title, int(posts)))
    return out


def find_target(raw: str) -> Target | None:
    """"fair:3" / "live:5" among the announceable ones."""
    return next((t for t in targets() if f"{t.kind}:{t.id}" == raw), None)


# ---- who gets it ------------------------------------------------------------------------

@dataclass
class Audience:
    groups: list[str] = field(default_factory=list)       # any of these key groups
    categories: list[str] = field(default_factory=list)   # signed a vacancy of one of these before
    fair_id: int | None = None                             # signed at this fair before

    def as_json(self) -> str:
        return json.dumps({"groups": self.groups, "categories": self.categories,
                           "fair": self.fair_id})

    def query(self) -> Select:
        query = select(Attendee.id, Attendee.phone).where(
            Attendee.push_consent_version.is_not(None), Attendee.push_stopped_at.is_(None),
            Attendee.purged_at.is_(None))
        groups = [g for g in self.groups if g in KEY_GROUPS]
        if groups:
            # Codes are distinct words in a comma-separated list: ",a,b," contains ",a,".
            padded = literal_groups()
            query = query.where(or_(*(padded.contains(f",{g},") for g in groups)))
        categories = [c for c in self.categories if c in CATEGORIES]
        if categories:
            query = query.where(exists(
                select(Intent.id).join(Vacancy, Vacancy.id == Intent.vacancy_id)
                .where(Intent.attendee_id == Attendee.id, Vacancy.category.in_(categories))))
        if self.fair_id:
            query = query.where(exists(select(Intent.id).where(
                and_(Intent.attendee_id == Attendee.id, Intent.fair_id == self.fair_id))))
        return query


def literal_groups():
    return literal(",") + Attendee.groups + literal(",")


def _reached(target: Target):
    """Whether this announcement reached the person before (a WHERE clause on Attendee)."""
    same = Push.fair_id == target.id if target.kind == "fair" else Push.live_session_id == target.id
    return exists(select(PushLink.nonce).join(Push, Push.id == PushLink.push_id)
                  .where(PushLink.attendee_id == Attendee.id, same))


def preview_counts(target: Target, audience: Audience) -> tuple[int, int]:
    """(people it would text now, people of the audience it reached before)."""
    def count(query) -> int:
        return db.session.scalar(select(func.count()).select_from(query.subquery()))

    reached = _reached(target)
    return count(audience.query().where(~reached)), count(audience.query().where(reached))


def preview_text(target: Target) -> str:
    return service.render_text("push", {"fair": target.title, "posts": target.posts,
                                        "link": _link("x" * 20)})


def _link(token: str) -> str:
    from fairsite.urls import public_url

    return public_url("sms.short_link", token=token)


@dataclass
class Sent:
    push_id: int
    message_ids: list[int]
    reached: int      # new texts queued
    repeated: int     # already got this announcement
    refused: int      # over a daily cap or the budget (recorded, not sent)


def send(target: Target, audience: Audience, user_id: int | None) -> Sent:
    """Queue the announcement to the audience (own transaction); dispatch the ids after."""
    limit = int(current_app.config["PUSH_MAX_RECIPIENTS"])
    with write_transaction():
        push = Push(fair_id=target.id if target.kind == "fair" else None,
                    live_session_id=target.id if target.kind == "live" else None,
                    audience=audience.as_json(), recipients=0, sent_by_id=user_id)
        db.session.add(push)
        db.session.flush()
        result = Sent(push.id, [], 0, 0, 0)
        # Those this announcement reached before are left out before the limit, so sending it
        # again reaches the next ones (the outbox key would refuse them anyway).
        reached = _reached(target)
        result.repeated = db.session.scalar(
            select(func.count()).select_from(audience.query().where(reached).subquery()))
        people = db.session.execute(
            audience.query().where(~reached).order_by(Attendee.id).limit(limit)).all()
        for attendee_id, phone in people:
            nonce, token = new_token()
            queued = service.queue_message(
                "push", phone, {"fair": target.title, "posts": target.posts, "link": _link(token)},
                f"push:{target.kind}:{target.id}:{attendee_id}", attendee_id=attendee_id)
            if not queued.created:
                result.repeated += 1
                continue
            db.session.add(PushLink(nonce=nonce, push_id=push.id, attendee_id=attendee_id,
                                    message_id=queued.message.id))
            if queued.refused:
                result.refused += 1
            else:
                result.message_ids.append(queued.message.id)
                result.reached += 1
        push.recipients = result.reached
    return result


# ---- opening the link -------------------------------------------------------------------

@dataclass
class Opened:
    link: PushLink
    target_url: str
    first: bool          # this open used the link (the device cookie may be set)
    attendee: Attendee


def open_link(token) -> Opened | None:
    """The link's push and person; marks it used the first time (one UPDATE that only one
    request can win). None for a token that is malformed, altered or unknown."""
    nonce = nonce_of(token)
    if nonce is None:
        return None
    link = db.session.get(PushLink, nonce)
    if link is None:
        return None
    push = db.session.get(Push, link.push_id)
    attendee = db.session.get(Attendee, link.attendee_id)
    if push is None or attendee is None:
        return None
    if push.fair_id:
        url = url_for("fairs.show", fair_id=push.fair_id)
    else:
        url = url_for("live.show", session_id=push.live_session_id)
    first = False
    if link.used_at is None and attendee.purged_at is None:
        with write_transaction():
            first = bool(db.session.execute(
                update(PushLink).where(PushLink.nonce == nonce, PushLink.used_at.is_(None))
                .values(used_at=utcnow())).rowcount)
    return Opened(link, url, first, attendee)
