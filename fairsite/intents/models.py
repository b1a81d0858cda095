"""Attendees (求职者), their devices, and the intents (求职意向) they sign."""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fairsite.clock import utcnow
from fairsite.extensions import db

if TYPE_CHECKING:
    from fairsite.vacancies.models import Vacancy

# Key groups (重点群体) that bureaus report on: code -> label.
KEY_GROUPS = {
    "returnee": _l("返乡农民工"),
    "graduate": _l("高校毕业生"),
    "poverty": _l("脱贫人口"),
    "difficulty": _l("就业困难人员"),
    "veteran": _l("退役军人"),
}
SOURCES = {
    "booth": _l("展位扫码"),
    "fair": _l("招聘会入口"),
    "live": _l("直播带岗"),
    "web": _l("网页"),
    "desk": _l("现场代登记"),
}
# Follow-up statuses (跟进状态), set by the employer, in the order bureaus count them:
# 待联系 → 已联系 → 已面试 → 现场签约 / 已录用 → 已到岗, or 不合适, or 未到岗.
STATUSES = {
    "new": _l("待联系"),
    "contacted": _l("已联系"),
    "interviewed": _l("已面试"),
    "signed": _l("现场签约"),
    "hired": _l("已录用"),
    "onboard": _l("已到岗"),
    "unsuitable": _l("不合适"),
    "no_show": _l("未到岗"),
}
# The stages a report counts, by the statuses that reached them: anything past 待联系 was
# contacted; an agreement (signed on site or hired) followed an interview or a talk at the
# booth; 未到岗 is an agreement the person did not take up.
CONTACTED_STATUSES = tuple(s for s in STATUSES if s != "new")
INTERVIEWED_STATUSES = ("interviewed", "signed", "hired", "onboard", "no_show")
AGREED_STATUSES = ("signed", "hired", "onboard", "no_show")
# Turned down: the bureau calls those turned down everywhere (fairsite.followups).
TURNED_DOWN_STATUSES = ("unsuitable", "no_show")


class Attendee(db.Model):
    __tablename__ = "attendees"
    __table_args__ = (
        # The organiser's person search by name (fairsite.followups): a prefix match served by
        # the index (GLOB on SQLite, LIKE with the pattern operator class on PostgreSQL).
        Index("ix_attendees_name", "name", postgresql_ops={"name": "text_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    # Normalised mainland mobile number, 11 digits; after purging, a placeholder that is no
    # number ("x" and the id), since the column is unique.
    phone: Mapped[str] = mapped_column(String(11), unique=True)
    # Comma-separated KEY_GROUPS codes, e.g. "returnee,poverty".
    groups: Mapped[str] = mapped_column(String(100), default="")
    hometown: Mapped[str] = mapped_column(String(60), default="")
    consent_version: Mapped[str] = mapped_column(String(40))
    consent_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "self" (ticked on their phone) or "verbal" (given at the desk, recorded by an organiser).
    consent_method: Mapped[str] = mapped_column(String(10), default="self")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when `flask purge` erased the person's data (retention period over): the row stays,
    # without name, number, hometown or devices, so that the reports still add up.
    purged_at: Mapped[datetime | None]
    # The separate, unticked consent to vacancy pushes by text (精准推送), with the version of
    # its wording (PIPL); stopped by the link in a push, a reply "TD" or the person's /me page.
    push_consent_version: Mapped[str | None] = mapped_column(String(40))
    push_consent_at: Mapped[datetime | None]
    push_stopped_at: Mapped[datetime | None]

    intents: Mapped[list[Intent]] = relationship(
        back_populates="attendee", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def group_codes(self) -> list[str]:
        return [g for g in self.groups.split(",") if g]


def new_device_token() -> str:
    return secrets.token_urlsafe(24)


class Device(db.Model):
    """A phone that an attendee signed from; the signed device cookie names it.

    A device that created the attendee sees all their intents. A device that signed with a
    phone number that already existed sees only the intents signed from it, so that typing
    someone's number never reveals their history."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(40), unique=True, default=new_device_token)
    attendee_id: Mapped[int] = mapped_column(
        ForeignKey("attendees.id", ondelete="CASCADE"), index=True
    )
    full_access: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Intent(db.Model):
    __tablename__ = "intents"
    __table_args__ = (
        UniqueConstraint("attendee_id", "vacancy_id"),
        CheckConstraint(
            "source IN ('booth', 'fair', 'live', 'web', 'desk')", name="source"
        ),
        CheckConstraint(
            "status IN ('new', 'contacted', 'interviewed', 'signed', 'hired', 'onboard', "
            "'unsuitable', 'no_show')",
            name="status",
        ),
        Index("ix_intents_fair_created", "fair_id", "created_at"),
        Index("ix_intents_live_vacancy", "live_session_id", "vacancy_id"),
        Index("ix_intents_employer_created", "employer_id", "created_at"),
        # The per-phone and per-device signing limits count the last hour's intents.
        Index("ix_intents_attendee_created", "attendee_id", "created_at"),
        Index("ix_intents_device_created", "device_id", "created_at"),
        # Who is waiting to be called (status "new", oldest first): the employer's dashboard
        # and list filter, the bureau's call list and the ranking of employers who have not
        # called (fairsite.followups).
        Index("ix_intents_employer_status_created", "employer_id", "status", "created_at"),
        Index("ix_intents_status_created", "status", "created_at"),
        # The employer's list, filtered, walks one of these in its order (newest first) and
        # stops after a page (fairsite.intents.service.intent_rows).
        Index("ix_intents_employer_fair_created", "employer_id", "fair_id", "created_at"),
        Index("ix_intents_vacancy_created", "vacancy_id", "created_at"),
        Index("ix_intents_employer_withdrawn", "employer_id", "created_at",
              sqlite_where=text("withdrawn_at IS NOT NULL"), postgresql_where=text("withdrawn_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attendee_id: Mapped[int] = mapped_column(ForeignKey("attendees.id", ondelete="CASCADE"))
    vacancy_id: Mapped[int] = mapped_column(ForeignKey("vacancies.id"))
    # Denormalised from the vacancy: the employer's list filters on it on every request.
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"))
    fair_id: Mapped[int | None] = mapped_column(ForeignKey("fairs.id"))
    booth_id: Mapped[int | None] = mapped_column(ForeignKey("booths.id"), index=True)
    live_session_id: Mapped[int | None] = mapped_column(ForeignKey("live_sessions.id"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="new")
    note: Mapped[str] = mapped_column(Text, default="")
    # When the employer first moved the intent past 待联系 (intents.service.set_status): how
    # long the person waited to be called.
    contacted_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    attendee: Mapped[Attendee] = relationship(back_populates="intents")
    vacancy: Mapped[Vacancy] = relationship()

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None



class SignKey(db.Model):
    """The idempotency key an intent button was rendered with, once it signed: the same key
    sent again (a retry, a signing the phone kept offline) is answered as that signing."""

    __tablename__ = "sign_keys"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    vacancy_id: Mapped[int]
    intent_id: Mapped[int] = mapped_column(ForeignKey("intents.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
