"""Interview invitations (面试邀请) by text, from the employer's list: pick people, a date,
time, place and contact; each gets a text, their status moves to 已联系 and the invitation is
recorded (the person sees it on /me). The texts go out through the queue, after the commit.
And the employer's daily digest by text (people waiting for a call), switched on or off."""
from __future__ import annotations

from flask import Blueprint, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from fairsite import events
from fairsite.accounts.models import ADMIN, BOOTH
from fairsite.accounts.service import employer_roles, own_employer_id
from fairsite.clock import utcnow
from fairsite.extensions import db
from fairsite.forms import clean_text
from fairsite.intents.models import Attendee, Intent
from fairsite.numbers import parse_id, parse_ids
from fairsite.sms import service
from fairsite.sms.forms import DigestForm, InviteForm
from fairsite.sms.models import Digest, Invitation
from fairsite.sql import write_transaction
from fairsite.vacancies.models import Vacancy
from fairsite.web import after_write, render

bp = Blueprint("employer_sms", __name__)
# Whom an invitation may go to: people not yet past the interview stage.
INVITABLE = ("new", "contacted")


def _candidates(employer_id: int, vacancy_id: int | None):
    """The employer's people who may be invited (newest first), with their latest invitation."""
    def latest(column):
        return (select(column).where(Invitation.intent_id == Intent.id)
                .order_by(Invitation.id.desc()).limit(1).scalar_subquery())

    query = (
        select(Intent.id, Intent.status, Attendee.name, Attendee.phone,
               Vacancy.title.label("vacancy"),
               latest(Invitation.on_date).label("invited_on"),
               latest(Invitation.at_time).label("invited_at"))
        .join(Attendee, Attendee.id == Intent.attendee_id)
        .join(Vacancy, Vacancy.id == Intent.vacancy_id)
        .where(Intent.employer_id == employer_id, Intent.withdrawn_at.is_(None),
               Intent.status.in_(INVITABLE), Attendee.purged_at.is_(None))
        .order_by(Intent.id.desc()).limit(service.INVITE_LIMIT)
    )
    if vacancy_id:
        query = query.where(Intent.vacancy_id == vacancy_id)
    return db.session.execute(query).all()


def _page(employer_id: int, form: InviteForm, picked: list[int], error: str = "",
          status: int = 200):
    vacancy_id = parse_id(request.values.get("vacancy"))
    vacancies = db.session.execute(
        select(Vacancy.id, Vacancy.title).where(Vacancy.employer_id == employer_id)
        .order_by(Vacancy.id)).all()
    return render("sms/employer_invite.html", None, status, form=form, picked=picked,
                  rows=_candidates(employer_id, vacancy_id), vacancies=vacancies,
                  vacancy_id=vacancy_id, pick_error=error)


@bp.route("/employer/invitations", methods=["GET", "POST"])
@employer_roles(ADMIN, BOOTH)
def invite():
    employer_id = own_employer_id()
    form = InviteForm()
    picked = parse_ids(request.values.getlist("intent"), limit=service.INVITE_LIMIT)
    if request.method == "GET":
        return _page(employer_id, form, picked)
    valid = form.validate()
    if not picked:
        return _page(employer_id, form, picked, _("请至少勾选一个人。"), 422)
    if not valid:
        return _page(employer_id, form, picked, "", 422)
    with write_transaction():
        result = service.invite(
            employer_id, picked, form.on_date.data, form.at_time.data,
            clean_text(form.place.data, 30), clean_text(form.contact.data, 30), current_user.id)
    service.dispatch(result.queued)
    for fair_id in sorted(result.fair_ids) or [None]:
        events.intent_changed(fair_id, None, employer_id)
    if not result.invited and not result.repeated:
        return _page(employer_id, form, [], _("勾选的人已不在名单中（可能已撤回）。"), 422)
    parts = []
    if result.invited - result.refused:
        parts.append(_("已向 %(n)s 人发出面试邀请短信，状态已改为“已联系”。",
                       n=result.invited - result.refused))
    if result.repeated:
        parts.append(_("%(n)s 人已邀请过这个时间，没有重复发送。", n=result.repeated))
    if result.refused:
        parts.append(_("%(n)s 人超过了短信条数限制，邀请已记录但短信未发出，请电话联系。",
                       n=result.refused))
    flash(" ".join(parts), "ok" if not result.refused else "error")
    return after_write(url_for("employer_sms.invite"))


@bp.route("/employer/sms-digest", methods=["GET", "POST"])
@employer_roles(ADMIN)
def digest():
    """The employer's daily text about people waiting for its call, switched on or off."""
    employer_id = own_employer_id()
    row = db.session.get(Digest, employer_id)
    if request.method == "GET":
        form = DigestForm(formdata=None, data={"active": bool(row and row.active),
                                               "phone": row.phone if row else ""})
        return render("sms/employer_digest.html", None, 200, form=form)
    form = DigestForm()
    if not form.validate():
        return render("sms/employer_digest.html", None, 422, form=form)
    with write_transaction():
        row = db.session.get(Digest, employer_id)
        if form.active.data:
            if row is None:
                row = Digest(employer_id=employer_id, phone=form.normalised_phone)
                db.session.add(row)
            row.phone, row.active, row.updated_at = form.normalised_phone, True, utcnow()
        elif row is not None:
            row.active, row.updated_at = False, utcnow()
    flash(_("已开启每日短信提醒。") if form.active.data else _("已关闭每日短信提醒。"), "ok")
    return after_write(url_for("employer_sms.digest"))
