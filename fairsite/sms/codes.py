"""Verification codes (验证码): a fair that asks for them (fairs.verify_phone) makes a phone
confirm a 6-digit code, sent by text through the outbox, before its first signing there, so
nobody signs in someone else's name.

- A code lasts SMS_CODE_MINUTES; SMS_CODE_MAX_TRIES wrong tries make it void.
- Codes are counted per phone and per address over the last hour inside one write
  transaction that nobody else can interleave (BEGIN IMMEDIATE on SQLite, a transaction-level
  advisory lock on PostgreSQL), so a burst cannot get past the count.
- Only keyed hashes are kept (HMAC-SHA256 with the site's secret): of the code, the phone and
  the address. The check compares hashes with hmac.compare_digest (constant time).
- The code's text is an outbox row like every other (purpose "verify"), so the console
  backend shows it on /manage/sms and the demo works without a phone; once used, the code is
  blanked in that row."""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from fairsite.clock import utcnow
from fairsite.extensions import db
from fairsite.sms import service
from fairsite.sms.models import Code, Message
from fairsite.sql import fetch_one, write_transaction

log = logging.getLogger("fairsite.sms")
_DIGITS = re.compile(r"[0-9]{6}")
# Any number, the same in every process: the lock that serialises issuing codes on PostgreSQL.
_PG_LOCK = 0x736D7363


def _secret() -> bytes:
    secret = current_app.config["SECRET_KEY"]
    return secret if isinstance(secret, bytes) else str(secret).encode()


def keyed(kind: str, value: str) -> str:
    return hmac.new(_secret(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def _code_hash(fair_id: int, phone_key: str, code: str) -> str:
    return keyed("sms-code", f"{fair_id}:{phone_key}:{code}")


def required(fair_id: int | None) -> bool:
    """Whether signing at this fair asks a new phone for a code."""
    if not fair_id:
        return False
    row = fetch_one("SELECT verify_phone FROM fairs WHERE id = :id", {"id": fair_id})
    return bool(row and row[0])


def verified(fair_id: int, phone: str) -> bool:
    return fetch_one(
        "SELECT id FROM sms_codes WHERE fair_id = :f AND phone_key = :p "
        "AND verified_at IS NOT NULL LIMIT 1",
        {"f": fair_id, "p": keyed("phone", phone)},
    ) is not None


def _lock() -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        fetch_one("SELECT pg_advisory_xact_lock(:k)", {"k": _PG_LOCK})


@dataclass
class Issued:
    status: str  # sent / recent (one sent a moment ago still holds) / phone_limit / ip_limit / refused
    message_ids: list[int] = field(default_factory=list)

    @property
    def limited(self) -> bool:
        return self.status in ("phone_limit", "ip_limit", "refused")

    @property
    def notice(self) -> str:
        return {
            "sent": _("验证码已用短信发出，请查看手机短信。"),
            "recent": _("验证码刚刚已发出，请查看手机短信；1 分钟后可以重新发送。"),
            "phone_limit": _("这个手机号一小时内已收到多次验证码，请稍后再试，或到服务台请工作人员代登记。"),
            "ip_limit": _("这个网络一小时内已发出太多验证码，请稍后再试，或到服务台请工作人员代登记。"),
            "refused": _("今天无法再给这个号码发短信，请到服务台请工作人员代登记。"),
        }[self.status]


def issue(fair_id: int, fair_title: str, phone: str, address: str | None,
          attendee_id: int | None = None, now: datetime | None = None) -> Issued:
    """Text a new code to `phone` for signing at this fair, unless one sent within
    SMS_CODE_RESEND_SECONDS still holds or a limit says no. Its own transaction; the caller
    dispatches the returned message ids."""
    config = current_app.config
    if "verify" not in config["SMS_TEMPLATES"]:
        # A site configured before codes existed: say so in the log, and to the person.
        log.error("SMS_TEMPLATES has no 'verify' template: no verification code can be sent")
        return Issued("refused")
    now = now or utcnow()
    phone_key, ip_key = keyed("phone", phone), keyed("ip", address or "-")
    hour_ago = now - timedelta(hours=1)
    with write_transaction():
        _lock()
        recent = db.session.scalar(
            select(Code.id).where(
                Code.fair_id == fair_id, Code.phone_key == phone_key, Code.verified_at.is_(None),
                Code.tries < int(config["SMS_CODE_MAX_TRIES"]), Code.expires_at > now,
                Code.created_at > now - timedelta(seconds=int(config["SMS_CODE_RESEND_SECONDS"])),
            ).limit(1))
        if recent is not None:
            return Issued("recent")
        if db.session.scalar(select(func.count(Code.id)).where(
                Code.phone_key == phone_key, Code.created_at > hour_ago)) \
                >= int(config["SMS_CODE_LIMIT_PER_PHONE"]):
            return Issued("phone_limit")
        if db.session.scalar(select(func.count(Code.id)).where(
                Code.ip_key == ip_key, Code.created_at > hour_ago)) \
                >= int(config["SMS_CODE_LIMIT_PER_IP"]):
            return Issued("ip_limit")
        code = f"{secrets.randbelow(1_000_000):06d}"
        row = Code(fair_id=fair_id, phone_key=phone_key, ip_key=ip_key,
                   code_hash=_code_hash(fair_id, phone_key, code), tries=0, created_at=now,
                   expires_at=now + timedelta(minutes=int(config["SMS_CODE_MINUTES"])))
        db.session.add(row)
        db.session.flush()
        queued = service.queue_message("verify", phone, {"code": code, "fair": fair_title},
                                       f"verify:{row.id}", attendee_id=attendee_id, now=now)
        row.message_id = queued.message.id
        if queued.refused:
            return Issued("refused")
        return Issued("sent", [queued.message.id])


def _blank_code(message_id: int | None) -> None:
    """A used code leaves the outbox row too (the row was sent, it is kept for the figures)."""
    message = db.session.get(Message, message_id) if message_id else None
    if message is not None and message.status in ("sent", "delivered"):
        params = json.loads(message.params)
        params["code"] = "******"
        message.params = json.dumps(params, ensure_ascii=False)


@dataclass
class Checked:
    ok: bool
    message: str = ""


def normalise_code(raw) -> str | None:
    """Six ASCII digits from what was typed (full-width digits folded, spaces dropped)."""
    if not isinstance(raw, str) or len(raw) > 40:
        return None
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw))
    return text if _DIGITS.fullmatch(text) else None


def check(fair_id: int, phone: str, raw, now: datetime | None = None) -> Checked:
    """Whether `raw` is the code last sent to this phone for this fair; a right one marks the
    phone verified at this fair. A wrong one counts a try; the last allowed try voids it."""
    code = normalise_code(raw)
    if code is None:
        return Checked(False, _("请输入短信里的 6 位数字验证码。"))
    now = now or utcnow()
    max_tries = int(current_app.config["SMS_CODE_MAX_TRIES"])
    phone_key = keyed("phone", phone)
    with write_transaction():
        row = db.session.execute(
            select(Code.id, Code.code_hash, Code.tries, Code.expires_at, Code.message_id)
            .where(Code.fair_id == fair_id, Code.phone_key == phone_key, Code.verified_at.is_(None))
            .order_by(Code.id.desc()).limit(1)).first()
        if row is None:
            return Checked(False, _("还没有给这个号码发验证码，请点「重新发送验证码」。"))
        if row.expires_at <= now:
            return Checked(False, _("验证码已过期，请点「重新发送验证码」。"))
        if row.tries >= max_tries:
            return Checked(False, _("验证码输错次数太多，已失效，请点「重新发送验证码」。"))
        # Both sides are hashes of the same length: the comparison takes the same time
        # whichever digit differs.
        if hmac.compare_digest(row.code_hash.encode(), _code_hash(fair_id, phone_key, code).encode()):
            won = db.session.execute(
                update(Code).where(Code.id == row.id, Code.verified_at.is_(None),
                                   Code.tries < max_tries).values(verified_at=now)).rowcount
            if won:
                _blank_code(row.message_id)
                return Checked(True)
            return Checked(False, _("验证码已失效，请点「重新发送验证码」。"))
        db.session.execute(update(Code).where(Code.id == row.id, Code.tries < max_tries)
                           .values(tries=Code.tries + 1))
        left = max_tries - row.tries - 1
    if left <= 0:
        return Checked(False, _("验证码输错次数太多，已失效，请点「重新发送验证码」。"))
    return Checked(False, _("验证码不对，还可以再试 %(n)s 次。", n=left))
