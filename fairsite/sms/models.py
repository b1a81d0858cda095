"""The SMS outbox: every text is one row (to whom, why, which template with which values, how
far it got), the organiser's monthly budgets, and the interview invitations employers send."""
from __future__ import annotations

from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fairsite.clock import utcnow
from fairsite.extensions import db

# queued -> sending (claimed by one worker) -> sent -> delivered, or failed.
MESSAGE_STATUSES = {
    "queued": _l("排队中"),
    "sending": _l("发送中"),
    "sent": _l("已发送"),
    "delivered": _l("已送达"),
    "failed": _l("失败"),
}
# Statuses that count against the daily cap and the monthly budget.
COUNTED = ("queued", "sending", "sent", "delivered")


class Message(db.Model):
    __tablename__ = "sms_messages"
    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'delivered', 'failed')", name="status"
        ),
        # The daily cap counts one phone's texts of the day; the budget the month's texts.
        Index("ix_sms_messages_phone_created", "phone", "created_at"),
        Index("ix_sms_messages_status_next", "status", "next_try_at"),
        Index("ix_sms_messages_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # One text per purpose and subject, ever: "invite:<intent>:<date> <time>", "desk:..."
    idem_key: Mapped[str] = mapped_column(String(120), unique=True)
    phone: Mapped[str] = mapped_column(String(11))
    # A person who deletes their data takes their texts with them (PIPL); `forget_old` erases
    # the rest after the retention period, like `flask purge` does for people.
    attendee_id: Mapped[int | None] = mapped_column(
        ForeignKey("attendees.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(20))
    template: Mapped[str] = mapped_column(String(40))
    # The template's values as JSON (what SendSms gets as TemplateParam).
    params: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[str] = mapped_column(String(10), default="queued")
    provider_id: Mapped[str] = mapped_column(String(80), default="")
    tries: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(String(200), default="")
    next_try_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Budget(db.Model):
    """One Beijing month ("2026-12"): the organiser's budget in texts (None: the default,
    SMS_MONTHLY_BUDGET) and the texts queued so far, counted in the same transaction as each
    outbox row (so the check costs one row, not a count over the month)."""

    __tablename__ = "sms_budgets"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    messages: Mapped[int | None]
    used: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Invitation(db.Model):
    """An interview invitation an employer sent to one person who signed (one per intent and
    slot): what /me shows them, and the employer's record of it."""

    __tablename__ = "interview_invitations"
    __table_args__ = (Index("ix_interview_invitations_intent", "intent_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    intent_id: Mapped[int] = mapped_column(ForeignKey("intents.id", ondelete="CASCADE"))
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), index=True)
    on_date: Mapped[date]
    at_time: Mapped[time]
    place: Mapped[str] = mapped_column(String(60))
    contact: Mapped[str] = mapped_column(String(40))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("sms_messages.id", ondelete="SET NULL"))
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Digest(db.Model):
    """An employer's daily text about the people waiting for its call (企业短信提醒)."""

    __tablename__ = "sms_digests"

    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id", ondelete="CASCADE"),
                                             primary_key=True)
    phone: Mapped[str] = mapped_column(String(11))
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


PURPOSE_LABELS = {
    "invite": _l("面试邀请"),
    "desk": _l("登记回执"),
    "digest": _l("企业提醒"),
    "push": _l("岗位推送"),
    "verify": _l("验证码"),
}


class Code(db.Model):
    """A 6-digit code texted to a phone before its first signing at a fair that asks for one
    (fairs.verify_phone). Only a keyed hash of the code and of the phone and address is kept;
    the row verified says this phone may sign at this fair from now on."""

    __tablename__ = "sms_codes"
    __table_args__ = (
        Index("ix_sms_codes_phone_created", "phone_key", "created_at"),
        Index("ix_sms_codes_ip_created", "ip_key", "created_at"),
        Index("ix_sms_codes_fair_phone", "fair_id", "phone_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fair_id: Mapped[int] = mapped_column(ForeignKey("fairs.id", ondelete="CASCADE"))
    phone_key: Mapped[str] = mapped_column(String(64))
    ip_key: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    tries: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    verified_at: Mapped[datetime | None]
    message_id: Mapped[int | None] = mapped_column(ForeignKey("sms_messages.id", ondelete="SET NULL"))


class Push(db.Model):
    """One announcement an organiser sent (a fair's or a live session's), with its audience."""

    __tablename__ = "sms_pushes"

    id: Mapped[int] = mapped_column(primary_key=True)
    fair_id: Mapped[int | None] = mapped_column(ForeignKey("fairs.id", ondelete="CASCADE"))
    live_session_id: Mapped[int | None] = mapped_column(
        ForeignKey("live_sessions.id", ondelete="CASCADE"))
    # The audience chosen, as JSON: {"groups": [...], "categories": [...], "fair": id}.
    audience: Mapped[str] = mapped_column(Text, default="{}")
    recipients: Mapped[int] = mapped_column(default=0)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PushLink(db.Model):
    """A person's short link in one push (/s/<token>): the token is this nonce and its
    signature, never a phone number or an id. It recognises the person once (single use)."""

    __tablename__ = "sms_push_links"

    nonce: Mapped[str] = mapped_column(String(16), primary_key=True)
    push_id: Mapped[int] = mapped_column(ForeignKey("sms_pushes.id", ondelete="CASCADE"), index=True)
    attendee_id: Mapped[int] = mapped_column(ForeignKey("attendees.id", ondelete="CASCADE"),
                                             index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("sms_messages.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]
