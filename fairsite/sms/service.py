"""The outbox: queue a text (one row, inside the caller's transaction, refused past the
phone's daily cap or the month's budget, never twice for one idempotency key), send one
(claimed by exactly one worker, retried with a doubling wait on transient errors), and the
figures the organiser's page shows.

Callers queue inside their write_transaction and hand the new ids to dispatch() after the
commit: the queue (fairsite/sms/queue.py) sends them in the background, so no request waits
for a provider. A row the queue lost (a restart of Redis) is picked up by the sweep."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from fairsite import i18n
from fairsite.clock import CST, utcnow
from fairsite.extensions import db
from fairsite.sms.gateway import SmsError, make_gateway
from fairsite.sms.models import COUNTED, Budget, Message
from fairsite.sql import write_transaction

# Each purpose's approved template as its text reads (the provider keeps the approved copy;
# this one shows on the outbox page and in the console log), and the values it needs.
# Aliyun allows at most 35 characters in one value.
TEMPLATES = {
    "invite": (_l("${name}您好，${employer}邀请您面试：${when}，地点${place}，联系${contact}。"),
               ("name", "employer", "when", "place", "contact")),
    "desk": (_l("${name}您好，您在${fair}登记了${count}个岗位：${booths}。企业会电话联系您。"),
             ("name", "fair", "count", "booths")),
    "digest": (_l("${employer}：今天有${today}人登记了贵公司的岗位，${waiting}人待联系，请登录平台查看。"),
               ("employer", "today", "waiting")),
    # The same personal link twice: to open the vacancies, and with /td to stop the pushes.
    "push": (_l("${fair}有${posts}个岗位在招，点 ${link} 看岗位。回复TD退订，或点 ${link}/td"),
             ("fair", "posts", "link")),
    "verify": (_l("验证码${code}，10分钟内有效，用于在${fair}登记求职意向。请勿告诉他人。"),
               ("code", "fair")),
}
PARAM_MAX = 35
# Values never cut at PARAM_MAX: a cut link would lead nowhere (Aliyun approves link
# variables in a template separately; keep SITE_ADDRESS short).
UNCUT_PARAMS = frozenset({"link"})
PHONE = re.compile(r"1[3-9][0-9]{9}")
# Errors of refused messages (never handed to a provider), as the outbox page says them.
REFUSALS = {
    "daily_cap": _l("超过每个号码每天的条数上限"),
    "budget": _l("超过本月短信预算"),
    "no_phone": _l("没有可用的手机号"),
    "stuck": _l("发送时服务中断，为免重复不再重发"),
}


def beijing_day_start(now: datetime) -> datetime:
    """The naive-UTC moment the Beijing day of `now` began."""
    local = now + CST
    return local.replace(hour=0, minute=0, second=0, microsecond=0) - CST


def beijing_month(now: datetime) -> tuple[str, datetime]:
    """("2026-12", the naive-UTC moment that Beijing month began)."""
    local = now + CST
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return start.strftime("%Y-%m"), start - CST


def render_text(purpose: str, params: dict) -> str:
    template, _names = TEMPLATES[purpose]
    # What the provider sends is the approved Simplified template, whatever language the
    # page showing it (the outbox, a push preview) is in.
    with force_locale(i18n.DEFAULT.locale):
        text = str(template)
    for key, value in params.items():
        text = text.replace("${" + key + "}", str(value))
    return f"【{current_app.config['SMS_SIGN_NAME']}】{text}"


def month_budget(month: str) -> int:
    row = db.session.get(Budget, month)
    if row is None or row.messages is None:
        return int(current_app.config["SMS_MONTHLY_BUDGET"])
    return row.messages


def month_used(month: str) -> int:
    row = db.session.get(Budget, month)
    return row.used if row is not None else 0


def set_budget(month: str, messages: int) -> None:
    """Inside the caller's write_transaction."""
    row = _month_row(month)
    row.messages = messages
    row.updated_at = utcnow()


def _month_row(month: str) -> Budget:
    """The month's row, created when missing, and locked: queuing reads the count, then
    writes it, and two queuers at once must not both take the last text of the budget.
    SQLite's BEGIN IMMEDIATE already runs them one after the other; PostgreSQL takes the row
    FOR UPDATE (a savepoint lets a second creator of the row lose the race quietly)."""
    postgres = db.session.get_bind().dialect.name == "postgresql"
    row = db.session.get(Budget, month, with_for_update=postgres)
    if row is not None:
        return row
    row = Budget(month=month, messages=None, used=0)
    if not postgres:
        db.session.add(row)
        return row
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        row = db.session.get(Budget, month, with_for_update=True, populate_existing=True)
    return row


@dataclass
class Queued:
    message: Message
    created: bool  # False: the key was used before, this is the earlier message

    @property
    def refused(self) -> bool:
        return self.message.status == "failed" and self.message.tries == 0


def queue_message(purpose: str, phone: str, params: dict, idem_key: str, *,
                  attendee_id: int | None = None, now: datetime | None = None) -> Queued:
    """One outbox row, inside the caller's write_transaction. An idem_key used before gives the
    earlier message back (nothing new is sent); past the phone's daily cap or the month's
    budget the row is recorded as failed, with the reason, and never sent."""
    if purpose not in TEMPLATES:
        raise ValueError(f"unknown SMS purpose {purpose!r}")
    config = current_app.config
    now = now or utcnow()
    existing = db.session.scalar(select(Message).where(Message.idem_key == idem_key))
    if existing is not None:
        return Queued(existing, False)
    month, _month_start = beijing_month(now)
    budget = _month_row(month)
    limit = budget.messages if budget.messages is not None else int(config["SMS_MONTHLY_BUDGET"])
    values = {k: str(v) if k in UNCUT_PARAMS else str(v)[:PARAM_MAX] for k, v in params.items()}
    message = Message(idem_key=idem_key[:120], phone=phone, attendee_id=attendee_id,
                      purpose=purpose, template=config["SMS_TEMPLATES"][purpose],
                      params=json.dumps(values, ensure_ascii=False), status="queued",
                      created_at=now, updated_at=now)
    if not PHONE.fullmatch(phone or ""):
        message.status, message.error = "failed", "no_phone"
    elif db.session.scalar(
        select(func.count(Message.id)).where(
            Message.phone == phone, Message.created_at >= beijing_day_start(now),
            Message.status.in_(COUNTED))
    ) >= int(config["SMS_DAILY_CAP_PER_PHONE"]):
        message.status, message.error = "failed", "daily_cap"
    elif budget.used >= limit:
        message.status, message.error = "failed", "budget"
    else:
        budget.used += 1
    if db.session.get_bind().dialect.name != "postgresql":
        # BEGIN IMMEDIATE: nobody else can have added the key since the check above.
        db.session.add(message)
        db.session.flush()
        return Queued(message, True)
    try:
        # A savepoint: a second queuer of the same key on PostgreSQL loses the unique index
        # race and gets the winner's row instead of an error.
        with db.session.begin_nested():
            db.session.add(message)
    except IntegrityError:
        return Queued(db.session.scalar(select(Message).where(Message.idem_key == idem_key)),
                      False)
    return Queued(message, True)


def dispatch(message_ids) -> None:
    """After the commit: hand the queued messages to the task queue, SEND_BATCH a task."""
    from fairsite.sms import queue  # the queue's tasks call back into this module

    ids = list(message_ids)
    for first in range(0, len(ids), SEND_BATCH):
        queue.enqueue(ids[first:first + SEND_BATCH])


def backoff(tries: int) -> int:
    return int(current_app.config["SMS_RETRY_BASE"]) * 2 ** max(0, tries - 1)


@dataclass
class Outcome:
    status: str
    retry_in: int | None = None


# Messages one task sends: they are claimed in one transaction and their results written in
# another, so a task costs two commits (two fsyncs on SQLite) however many it sends.
SEND_BATCH = 20


def send_one(message_id: int, now: datetime | None = None) -> Outcome | None:
    """Send one queued message (see send_many). None when there was nothing to send."""
    return send_many([message_id], now).get(message_id)


def send_many(message_ids: list[int], now: datetime | None = None) -> dict[int, Outcome]:
    """Send these queued messages. Each is first claimed (queued -> sending, in one UPDATE
    that only one worker can win for a row), so a task run twice, or by two workers at once,
    sends a message once. Those already sent, failed or not due yet are left alone (no
    Outcome). A transient error puts the message back in the queue with a doubled wait."""
    now = now or utcnow()
    due = (Message.next_try_at.is_(None)) | (Message.next_try_at <= now)
    with write_transaction():
        candidates = list(db.session.scalars(
            select(Message.id).where(Message.id.in_(message_ids), Message.status == "queued", due)))
        claimed = []
        for message_id in candidates:
            # One row per UPDATE: its rowcount says whether this worker won that row.
            if db.session.execute(
                update(Message).where(Message.id == message_id, Message.status == "queued", due)
                .values(status="sending", tries=Message.tries + 1, updated_at=now)
            ).rowcount:
                claimed.append(message_id)
        rows = db.session.execute(
            select(Message.id, Message.phone, Message.template, Message.params, Message.tries)
            .where(Message.id.in_(claimed))).all() if claimed else []
    if not rows:
        return {}
    # The provider is called outside any transaction: the database is not held meanwhile.
    gateway = make_gateway(current_app.config)
    max_tries = int(current_app.config["SMS_MAX_TRIES"])
    results: dict[int, tuple[Outcome, dict]] = {}
    for row in rows:
        try:
            provider_id = gateway.send(row.phone, row.template, json.loads(row.params),
                                       out_id=str(row.id))
        except SmsError as error:
            finished = utcnow()
            retry = error.transient and row.tries < max_tries
            wait = backoff(row.tries) if retry else None
            results[row.id] = (Outcome("queued" if retry else "failed", wait), dict(
                status="queued" if retry else "failed", error=str(error)[:200],
                next_try_at=finished + timedelta(seconds=wait) if retry else None,
                updated_at=finished))
        else:
            finished = utcnow()
            results[row.id] = (Outcome("sent"), dict(
                status="sent", provider_id=provider_id[:80], error="", sent_at=finished,
                next_try_at=None, updated_at=finished))
    with write_transaction():
        for message_id, (_outcome, values) in results.items():
            db.session.execute(update(Message).where(Message.id == message_id).values(**values))
    return {message_id: outcome for message_id, (outcome, _values) in results.items()}


def due_messages(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Queued messages whose time has come (the sweep's work: rows the queue lost)."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(Message.id).where(
            Message.status == "queued",
            (Message.next_try_at.is_(None)) | (Message.next_try_at <= now),
            Message.updated_at <= now - timedelta(minutes=1))
        .order_by(Message.id).limit(limit)))


def fail_stuck(now: datetime | None = None, minutes: int = 15) -> int:
    """Messages left "sending" by a worker that stopped mid-send: the provider may have sent
    them, so they are marked failed rather than sent again."""
    now = now or utcnow()
    with write_transaction():
        return db.session.execute(
            update(Message).where(Message.status == "sending",
                                  Message.updated_at < now - timedelta(minutes=minutes))
            .values(status="failed", error="stuck", updated_at=now)
        ).rowcount


def mark_delivered(provider_id: str, success: bool, error: str = "") -> bool:
    """A delivery receipt from the provider."""
    now = utcnow()
    with write_transaction():
        values = dict(status="delivered", delivered_at=now, updated_at=now) if success else \
            dict(status="failed", error=error[:200] or "undelivered", updated_at=now)
        return bool(db.session.execute(
            update(Message).where(Message.provider_id == provider_id,
                                  Message.status == "sent").values(**values)
        ).rowcount)


def error_label(error: str) -> str:
    return str(REFUSALS.get(error, error))


# ---- uses ---------------------------------------------------------------------------------

INVITE_LIMIT = 200  # people in one invitation round


@dataclass
class InviteResult:
    queued: list[int]     # message ids to dispatch after the commit
    invited: int          # people invited now
    repeated: int         # already invited to this very slot (no second text)
    refused: int          # past a daily cap or the budget (recorded, not sent)
    fair_ids: set


def invite(employer_id: int, intent_ids: list[int], on_date, at_time, place: str, contact: str,
           user_id: int | None) -> InviteResult:
    """Interview invitations to the employer's own people, inside the caller's
    write_transaction: one text each (once per intent and slot), the invitation recorded, and
    a status of 待联系 moved to 已联系. Intents of other employers, withdrawn or erased ones
    are left out."""
    from fairsite.audit import service as audit
    from fairsite.employers.models import Employer
    from fairsite.intents.models import Attendee, Intent
    from fairsite.sms.models import Invitation
    from fairsite.tallies import service as tallies

    employer_name = db.session.get(Employer, employer_id).name
    rows = db.session.execute(
        select(Intent, Attendee.name, Attendee.phone)
        .join(Attendee, Attendee.id == Intent.attendee_id)
        .where(Intent.id.in_(intent_ids[:INVITE_LIMIT]), Intent.employer_id == employer_id,
               Intent.withdrawn_at.is_(None), Attendee.purged_at.is_(None))
        .order_by(Intent.id)
    ).all()
    result = InviteResult([], 0, 0, 0, set())
    when = f"{on_date.month}月{on_date.day}日 {at_time.strftime('%H:%M')}"
    for intent, name, phone in rows:
        queued = queue_message(
            "invite", phone,
            {"name": name, "employer": employer_name, "when": when, "place": place,
             "contact": contact},
            f"invite:{intent.id}:{on_date.isoformat()}T{at_time.strftime('%H:%M')}",
            attendee_id=intent.attendee_id,
        )
        if not queued.created:
            result.repeated += 1
            continue
        db.session.flush()
        db.session.add(Invitation(intent_id=intent.id, employer_id=employer_id, on_date=on_date,
                                  at_time=at_time, place=place, contact=contact,
                                  message_id=queued.message.id, sent_by_id=user_id))
        if queued.refused:
            result.refused += 1
        else:
            result.queued.append(queued.message.id)
        result.invited += 1
        if intent.status == "new":
            intent.status = "contacted"
            intent.updated_at = utcnow()
        audit.record("intent.invite", "intent", intent.id, f"message={queued.message.id}")
        if intent.fair_id:
            result.fair_ids.add(intent.fair_id)
    if result.invited:
        tallies.touch(f"employer:{employer_id}")
    return result


def desk_receipt(fair_id: int, attendee_id: int) -> list[int]:
    """A person registered at the desk gets the slip by text: the booths and employers of the
    jobs they signed at this fair. Inside the caller's write_transaction; one text per set of
    intents (keyed by the newest), none when nothing new was signed. Returns ids to dispatch."""
    from fairsite.booths.models import Booth
    from fairsite.employers.models import Employer
    from fairsite.fairs.models import Fair
    from fairsite.intents.models import Attendee, Intent

    attendee = db.session.get(Attendee, attendee_id)
    fair = db.session.get(Fair, fair_id)
    if attendee is None or fair is None or attendee.purged_at is not None:
        return []
    rows = db.session.execute(
        select(Intent.id, Booth.number, Employer.name)
        .join(Employer, Employer.id == Intent.employer_id)
        .outerjoin(Booth, Booth.id == Intent.booth_id)
        .where(Intent.attendee_id == attendee.id, Intent.fair_id == fair.id,
               Intent.withdrawn_at.is_(None))
        .order_by(Booth.number, Intent.id)
    ).all()
    if not rows:
        return []
    # Booth numbers with the employer's first characters: "A-12 华达电子、B-03 川南物流".
    booths = "、".join(dict.fromkeys(f"{number or ''} {name[:4]}".strip() for _, number, name in rows))
    queued = queue_message(
        "desk", attendee.phone,
        {"name": attendee.name, "fair": fair.title, "count": len(rows), "booths": booths},
        f"desk:{fair.id}:{attendee.id}:{max(r[0] for r in rows)}", attendee_id=attendee.id,
    )
    return [queued.message.id] if queued.created and not queued.refused else []


def invitations_for(intent_ids: list[int]) -> list:
    """The interview invitations for these intents (those /me shows), newest first."""
    from fairsite.employers.models import Employer
    from fairsite.intents.models import Intent
    from fairsite.sms.models import Invitation
    from fairsite.vacancies.models import Vacancy

    return db.session.execute(
        select(Invitation.on_date, Invitation.at_time, Invitation.place, Invitation.contact,
               Employer.name.label("employer"), Vacancy.title.label("vacancy"))
        .join(Intent, Intent.id == Invitation.intent_id)
        .join(Employer, Employer.id == Invitation.employer_id)
        .join(Vacancy, Vacancy.id == Intent.vacancy_id)
        .where(Invitation.intent_id.in_(intent_ids), Intent.withdrawn_at.is_(None))
        .order_by(Invitation.id.desc()).limit(20)
    ).all()


def queue_digests(now: datetime | None = None) -> list[int]:
    """The day's digest for each employer who asked for it and has people: how many signed
    today (Beijing), how many wait for a call. Once per employer and day. Returns ids to
    dispatch after the commit."""
    from fairsite.employers.models import Employer
    from fairsite.intents.models import Intent
    from fairsite.sms.models import Digest

    now = now or utcnow()
    day_start = beijing_day_start(now)
    day = (now + CST).date().isoformat()
    ids = []
    with write_transaction():
        subscribers = db.session.execute(
            select(Digest.employer_id, Digest.phone, Employer.name)
            .join(Employer, Employer.id == Digest.employer_id).where(Digest.active)
            .order_by(Digest.employer_id)).all()
        for employer_id, phone, name in subscribers:
            today, waiting = db.session.execute(
                select(func.count(Intent.id).filter(Intent.created_at >= day_start),
                       func.count(Intent.id).filter(Intent.status == "new"))
                .where(Intent.employer_id == employer_id, Intent.withdrawn_at.is_(None))).one()
            if not today and not waiting:
                continue
            queued = queue_message("digest", phone,
                                   {"employer": name, "today": today, "waiting": waiting},
                                   f"digest:{employer_id}:{day}", now=now)
            if queued.created and not queued.refused:
                ids.append(queued.message.id)
    return ids


def forget_old(now: datetime | None = None) -> int:
    """Erase texts older than the personal-data retention period (they hold names and phone
    numbers); the month's counts stay in sms_budgets."""
    from sqlalchemy import delete

    from fairsite.sms.models import Code

    now = now or utcnow()
    cutoff = now - timedelta(days=int(current_app.config["PERSONAL_DATA_RETENTION_DAYS"]))
    with write_transaction():
        # Verification codes (keyed hashes of a phone and an address) go at the same age.
        db.session.execute(delete(Code).where(Code.created_at < cutoff))
        return db.session.execute(
            delete(Message).where(Message.created_at < cutoff,
                                  Message.status.in_(("sent", "delivered", "failed")))
        ).rowcount
