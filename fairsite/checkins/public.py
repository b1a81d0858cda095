"""The fair's entrance check-in (签到), what its entrance QR opens: one tap on a phone the site
knows, name + phone + consent (the signing form's fields and rules) on a new one, "已签到"
after. Works as a plain form; htmx swaps the card in place."""
from __future__ import annotations

from flask import Blueprint, current_app, url_for
from flask_babel import gettext as _

from fairsite import events, group_commit
from fairsite.checkins import service
from fairsite.extensions import limiter
from fairsite.fairs.models import SIGNABLE_STATUSES
from fairsite.fairs.service import get_public_fair
from fairsite.intents.device import current_device, remember
from fairsite.intents.forms import AttendeeForm
from fairsite.intents.service import attendee_ref
from fairsite.web import after_write, render

bp = Blueprint("checkins", __name__)


def _closed(fair) -> str:
    if fair.status in SIGNABLE_STATUSES:
        return ""
    if fair.status == "closed":
        return _("本场招聘会已结束，不再签到。")
    return _("本场招聘会还没有开始签到。")


def _page(fair, status: int = 200, form: AttendeeForm | None = None):
    device = current_device()
    attendee = attendee_ref(device.attendee_id) if device else None
    checked = attendee is not None and service.is_checked_in(fair.id, attendee.id)
    if attendee is None and form is None:
        form = AttendeeForm()
    return render("checkins/checkin.html", "checkins/_checkin.html", status, fair=fair,
                  attendee=attendee, checked=checked, form=form if attendee is None else None,
                  closed=_closed(fair))


@bp.get("/fairs/<int:fair_id>/checkin")
def checkin(fair_id: int):
    return _page(get_public_fair(fair_id))


@bp.post("/fairs/<int:fair_id>/checkin")
@limiter.limit(lambda: current_app.config["INTENT_LIMIT_PER_IP"], methods=["POST"])
def check_in(fair_id: int):
    fair = get_public_fair(fair_id)
    if _closed(fair):
        return _page(fair, 422)
    fair_id = fair.id
    location = url_for("checkins.checkin", fair_id=fair_id)
    device = current_device()
    token = None
    if device is not None:
        attendee_id, device_id = device.attendee_id, device.id
        first = group_commit.commit(lambda: service.check_in(fair_id, attendee_id, "self", device_id))
    else:
        form = AttendeeForm()
        if not form.validate():
            return _page(fair, 422, form)
        name, phone, groups = form.name.data, form.normalised_phone, form.groups.data or []
        consent = current_app.config["CONSENT_VERSION"]
        done = group_commit.commit(
            lambda: service.check_in_new_phone(fair_id, name, phone, groups, consent))
        first, token = done.first, done.device_token
    if first:
        events.fair_changed(fair_id)
    if token is None:
        return after_write(location, "checkins/_checkin.html", fair=fair, checked=True,
                           attendee=attendee_ref(device.attendee_id), form=None, closed="")
    response = after_write(location, "checkins/_checkin.html", fair=fair, checked=True,
                           attendee=attendee_ref(done.attendee.id), form=None, closed="")
    return remember(response, token)
