"""The organiser's outbox page (/manage/sms): every text with its status, filters, this
month's counts against the budget the organiser sets; and `flask sms worker` (the queue's
consumer, which `make run` starts beside gunicorn)."""
from __future__ import annotations

import json

from flask import Blueprint, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from fairsite.accounts.models import ADMIN, VIEWER
from fairsite.accounts.service import organiser_roles
from fairsite.audit import service as audit
from fairsite.clock import utcnow
from fairsite.extensions import db
from fairsite.fairs.models import Fair
from fairsite.numbers import parse_id, parse_page
from fairsite.sms import push, queue, service
from fairsite.sms.forms import BudgetForm, PushForm
from fairsite.sms.models import MESSAGE_STATUSES, PURPOSE_LABELS, Message
from fairsite.sql import write_transaction
from fairsite.web import after_write, render

bp = Blueprint("manage_sms", __name__, cli_group="sms")
PAGE_SIZE = 50


def _filters() -> dict:
    status = request.args.get("status", "")
    purpose = request.args.get("purpose", "")
    return {"status": status if status in MESSAGE_STATUSES else "",
            "purpose": purpose if purpose in PURPOSE_LABELS else ""}


def _context(form: BudgetForm | None = None) -> dict:
    filt = _filters()
    page = parse_page(request.args.get("page"))
    month, month_start = service.beijing_month(utcnow())
    counts = dict(db.session.execute(
        select(Message.status, func.count(Message.id))
        .where(Message.created_at >= month_start).group_by(Message.status)).all())
    query = select(Message).order_by(Message.id.desc())
    if filt["status"]:
        query = query.where(Message.status == filt["status"])
    if filt["purpose"]:
        query = query.where(Message.purpose == filt["purpose"])
    total = db.session.scalar(query.with_only_columns(func.count(Message.id)).order_by(None))
    messages = db.session.scalars(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    budget = service.month_budget(month)
    used = service.month_used(month)
    if form is None:
        form = BudgetForm(formdata=None, data={"messages": str(budget)})
    price = int(current_app.config["SMS_PRICE_FEN"])
    return dict(
        messages=messages, texts={m.id: service.render_text(m.purpose, json.loads(m.params))
                                  for m in messages},
        filt=filt, page=page, pages=max(1, -(-total // PAGE_SIZE)), total=total,
        counts=counts, month=month, budget=budget, used=used, left=max(0, budget - used),
        budget_yuan=budget * price / 100, used_yuan=used * price / 100, form=form,
        backend=current_app.config["SMS_BACKEND"], MESSAGE_STATUSES=MESSAGE_STATUSES,
        PURPOSE_LABELS=PURPOSE_LABELS, sms_error_label=service.error_label,
    )


@bp.get("/manage/sms")
@organiser_roles(ADMIN, VIEWER)
def index():
    return render("sms/manage_index.html", "sms/_outbox.html", **_context())


@bp.post("/manage/sms/budget")
@organiser_roles(ADMIN)
def budget():
    form = BudgetForm()
    if not form.validate():
        return render("sms/manage_index.html", None, 422, **_context(form))
    month, _start = service.beijing_month(utcnow())
    with write_transaction():
        service.set_budget(month, form.value)
        audit.record("sms.budget", None, None, f"{month} {form.value}")
    flash(_("本月短信预算已设为 %(n)s 条。", n=form.value), "ok")
    return after_write(url_for("manage_sms.index"))


@bp.cli.command("worker")
def worker_command() -> None:
    """Run the SMS queue's consumer (Ctrl-C stops it)."""
    queue.run_worker(current_app._get_current_object())


# ---- vacancy pushes (精准推送) ---------------------------------------------------------------

def _push_form() -> tuple[PushForm, list]:
    targets = push.targets()
    form = PushForm()
    form.target.choices = [("", _("请选择"))] + [
        (f"{t.kind}:{t.id}", (_("招聘会") if t.kind == "fair" else _("直播")) + f"：{t.title}")
        for t in targets]
    fairs = db.session.execute(select(Fair.id, Fair.title).order_by(Fair.date.desc(), Fair.id.desc())
                               .limit(200)).all()
    form.earlier_fair.choices = [("", _("不限"))] + [(str(i), title) for i, title in fairs]
    return form, targets


def _audience(form: PushForm) -> push.Audience:
    return push.Audience(groups=form.groups.data or [], categories=form.categories.data or [],
                         fair_id=parse_id(form.earlier_fair.data) if form.earlier_fair.data else None)


@bp.route("/manage/sms/push", methods=["GET", "POST"])
@organiser_roles(ADMIN)
def push_new():
    """Choose what to announce and to whom; "预览" shows how many people and the text, "发送"
    queues one text each (never twice per person and announcement)."""
    form, targets = _push_form()
    preview = None
    status = 200
    if request.method == "POST":
        if not form.validate():
            status = 422
        else:
            target = push.find_target(form.target.data)
            audience = _audience(form)
            if target is None:
                form.target.errors = [_("请选择要推送的招聘会或直播。")]
                status = 422
            elif request.form.get("action") == "send":
                sent = push.send(target, audience, current_user.id)
                service.dispatch(sent.message_ids)
                with write_transaction():
                    audit.record("sms.push", "sms_push", sent.push_id,
                                 f"{form.target.data} reached={sent.reached} "
                                 f"repeated={sent.repeated} refused={sent.refused}")
                flash(_("已排队发送 %(n)s 条推送短信；%(r)s 人以前收到过这条推送，不再重发；%(f)s 条超过上限未发。",
                        n=sent.reached, r=sent.repeated, f=sent.refused), "ok")
                return after_write(url_for("manage_sms.index", purpose="push"))
            else:
                new, before = push.preview_counts(target, audience)
                preview = {"count": new, "before": before, "text": push.preview_text(target),
                           "limit": int(current_app.config["PUSH_MAX_RECIPIENTS"])}
    return render("sms/manage_push.html", None, status, form=form, preview=preview,
                  has_targets=bool(targets))
