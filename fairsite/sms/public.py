"""What attendees see of texts: their interview invitations on /me (a template helper the
/me page calls with the intents it shows, so a device sees only what it may); the
provider's delivery receipts (sent -> delivered / failed); a push's personal short link
(/s/<token>), stopping pushes (the link with /td, /me, a reply "TD")."""
from __future__ import annotations

import hmac
import unicodedata

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _

from fairsite.extensions import csrf, db
from fairsite.intents import service as intents
from fairsite.intents.device import current_device, remember
from fairsite.intents.models import Attendee
from fairsite.phones import normalise_phone
from fairsite.sms import push, service
from fairsite.sms.models import PushLink
from fairsite.sql import write_transaction
from fairsite.web import after_write, render

bp = Blueprint("sms", __name__)


@bp.app_template_global()
def sms_invitations(rows) -> list:
    """Invitations for the intents of /me's rows ((Intent, Vacancy, Employer, number) each)."""
    ids = [row[0].id for row in rows]
    return service.invitations_for(ids) if ids else []


# Aliyun's HTTP push of delivery receipts (SmsReport): a JSON list of
# {"phone_number", "success", "err_code", "err_msg", "biz_id", "out_id", ...}. The secret part
# of the address (SMS_RECEIPT_TOKEN, set in the SMS console's callback URL) says the push
# is Aliyun's; without one set, the address does not exist.
MAX_RECEIPTS = 1000


@bp.post("/sms/receipts/aliyun/<token>")
@csrf.exempt
def aliyun_receipts(token: str):
    expected = current_app.config.get("SMS_RECEIPT_TOKEN") or ""
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        abort(404)
    reports = request.get_json(silent=True)
    if not isinstance(reports, list) or len(reports) > MAX_RECEIPTS:
        return jsonify(code=1, msg="bad request"), 400
    for report in reports:
        if not isinstance(report, dict):
            continue
        biz_id = report.get("biz_id")
        if not isinstance(biz_id, str) or not biz_id or len(biz_id) > 80:
            continue
        error = f"{report.get('err_code', '')} {report.get('err_msg', '')}".strip()
        service.mark_delivered(biz_id, report.get("success") is True, error[:200])
    # What Aliyun waits for; anything else makes it push the same receipts again.
    return jsonify(code=0, msg="成功")


# ---- vacancy pushes: the personal short link, stopping, replies ---------------------------

@bp.get("/s/<token>")
def short_link(token: str):
    """A push's personal link: opens the announced fair's (or live session's) vacancies. The
    first open recognises the person on this phone (a device cookie that sees only what is
    signed from it), so signing there is one tap; a used link opens the page as for anyone."""
    opened = push.open_link(token)
    if opened is None:
        return render("sms/link.html", None, 404, state="bad", target_url=url_for("fairs.index"))
    response = redirect(opened.target_url, code=303)
    if opened.first:
        with write_transaction():
            _device_id, device_token = intents.add_device(opened.attendee.id, full_access=False)
        return remember(response, device_token)
    device = current_device()
    if device is not None and device.attendee_id == opened.attendee.id:
        return response
    return render("sms/link.html", state="used", target_url=opened.target_url, token=token)


@bp.route("/s/<token>/td", methods=["GET", "POST"])
def stop_link(token: str):
    """Stop the pushes (退订): the link in every push text with /td. A GET only asks (a link
    preview must not stop anything); the button posts."""
    nonce = push.nonce_of(token)
    link = db.session.get(PushLink, nonce) if nonce else None
    if link is None:
        return render("sms/stop.html", None, 404, state="bad", token=token)
    if request.method == "GET":
        return render("sms/stop.html", state="ask", token=token)
    push.stop(link.attendee_id)
    return render("sms/stop.html", state="done", token=token)


# Aliyun's HTTP push of replies (SmsUp): a JSON list of {"phone_number", "content",
# "send_time", "sign_name", "dest_code", "sequence_id"}, at SITE_ADDRESS/sms/replies/aliyun/
# <SMS_RECEIPT_TOKEN>. A reply "TD" (or 退订, T, N) stops the pushes to that number.
STOP_WORDS = frozenset({"TD", "T", "N", "退订", "退", "取消"})


@bp.post("/sms/replies/aliyun/<token>")
@csrf.exempt
def aliyun_replies(token: str):
    expected = current_app.config.get("SMS_RECEIPT_TOKEN") or ""
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        abort(404)
    replies = request.get_json(silent=True)
    if not isinstance(replies, list) or len(replies) > MAX_RECEIPTS:
        return jsonify(code=1, msg="bad request"), 400
    for reply in replies:
        if not isinstance(reply, dict):
            continue
        content, phone = reply.get("content"), reply.get("phone_number")
        if not isinstance(content, str) or not isinstance(phone, str) or len(content) > 500:
            continue
        word = unicodedata.normalize("NFKC", content).strip().strip("。.!！").upper()
        number = normalise_phone(phone[-11:]) if len(phone) <= 20 else None
        if word in STOP_WORDS and number:
            push.stop_phone(number)
    return jsonify(code=0, msg="成功")


@bp.app_template_global()
def push_subscription(device) -> str:
    """For /me: "on" / "off" / "" (never asked) for the pushes of this device's person."""
    attendee = db.session.get(Attendee, device.attendee_id) if device else None
    if attendee is None or attendee.push_consent_version is None:
        return ""
    return "on" if push.subscribed(attendee) else "off"


@bp.post("/me/push/stop")
def stop_mine():
    """Stop the pushes from /me (any device of the person: the pushes are theirs)."""
    device = current_device()
    if device is None:
        return redirect(url_for("intents.me"), code=303)
    push.stop(device.attendee_id)
    flash(_("已退订岗位推送短信。"), "ok")
    return after_write(url_for("intents.me"))
