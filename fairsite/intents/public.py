"""Attendees sign intents (from a booth QR, the fair page or a live session), see their own
list on this device, withdraw one, or delete everything. No account: a signed device cookie
recognises the phone after the first, one short form."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property, lru_cache

import limits
from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy import select

from fairsite import events, group_commit
from fairsite.booths.models import Booth, BoothVacancy
from fairsite.booths.service import valid_token
from fairsite.clock import utcnow
from fairsite.employers.models import Employer
from fairsite.extensions import csrf, db, limiter
from fairsite.fairs.models import SIGNABLE_STATUSES, Fair
from fairsite.intents import service
from fairsite.intents.device import current_device, forget, remember
from fairsite.intents.forms import AttendeeForm
from fairsite.intents.models import Attendee, Intent
from fairsite.live.models import LiveItem, LiveSession
from fairsite.numbers import parse_id
from fairsite.sms import codes as sms_codes
from fairsite.sms import push as sms_push
from fairsite.sms import service as sms_service
from fairsite.sql import fetch_one
from fairsite.vacancies.models import Vacancy
from fairsite.web import after_write, is_htmx, own_request, render

bp = Blueprint("intents", __name__)

_SLOT = re.compile(r"[a-z][a-z0-9_-]{0,29}")
# The idempotency key an intent button is rendered with (see new_sign_key).
_SIGN_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
# How long a repeated first-time form may get back the device cookie its first copy set.
_REISSUE_WINDOW = timedelta(days=1)


@dataclass
class Place:
    """Where an intent is signed, and what the attendee is told about it. The vacancy and
    employer are loaded only when a template needs them (signing itself needs just the ids)."""

    source: str  # booth / fair / live
    where: dict  # the intent button's context: {"booth": token} / {"fair": id} / {"live": id}
    vacancy_id: int
    employer_id: int
    fair_id: int | None = None
    booth_id: int | None = None
    booth_number: str | None = None
    live_session_id: int | None = None
    # Why signing is not possible here now (closed fair, ended session...), or "".
    closed: str = ""
    back_url: str = ""

    @cached_property
    def vacancy(self) -> Vacancy:
        return db.session.get(Vacancy, self.vacancy_id)

    @cached_property
    def employer(self) -> Employer:
        return db.session.get(Employer, self.employer_id)


# The booth QR path, the hot one: everything signing needs in one indexed read.
_BOOTH_PLACE = (
    "SELECT b.id, b.number, b.status, f.id, f.status, v.employer_id, v.is_open "
    "FROM booths b JOIN fairs f ON f.id = b.fair_id "
    "JOIN booth_vacancies bv ON bv.booth_id = b.id AND bv.vacancy_id = :vacancy_id "
    "JOIN vacancies v ON v.id = bv.vacancy_id WHERE b.token = :token"
)


def resolve_place(values) -> Place:
    """The vacancy and where it is signed, from `vacancy_id` plus exactly one of `booth`
    (token), `fair` (id) or `live` (session id). Anything that does not fit is a 404."""
    vacancy_id = parse_id(values.get("vacancy_id"))
    given = [k for k in ("booth", "fair", "live") if values.get(k)]
    if vacancy_id is None or len(given) != 1:
        abort(404)
    kind = given[0]
    raw = values.get(kind)
    if kind == "booth":
        row = fetch_one(_BOOTH_PLACE, {"vacancy_id": vacancy_id, "token": raw}) if valid_token(raw) else None
        if row is None or row[2] != "approved":
            abort(404)
        booth_id, number, _status, fair_id, fair_status, employer_id, is_open = row
        place = Place("booth", {"booth": raw}, vacancy_id, employer_id, fair_id=fair_id,
                      booth_id=booth_id, booth_number=number,
                      back_url=url_for("booths.show", token=raw))
        place.closed = _fair_closed(fair_status)
    else:
        vacancy = db.session.get(Vacancy, vacancy_id)
        if vacancy is None:
            abort(404)
        is_open = vacancy.is_open
        if kind == "fair":
            fair = db.session.get(Fair, parse_id(raw) or 0)
            if fair is None or not fair.is_public:
                abort(404)
            booth = _booth_at_fair(fair.id, vacancy.id)
            if booth is None:
                abort(404)
            place = Place("fair", {"fair": fair.id}, vacancy.id, vacancy.employer_id, fair_id=fair.id,
                          booth_id=booth.id, booth_number=booth.number,
                          back_url=url_for("fairs.show", fair_id=fair.id))
            place.closed = _fair_closed(fair.status)
        else:
            session = db.session.get(LiveSession, parse_id(raw) or 0)
            # A session taken down, or run by an employer not yet approved, takes no intents.
            if session is None or not session.is_public \
                    or db.session.get(LiveItem, (session.id, vacancy.id)) is None:
                abort(404)
            booth = _booth_at_fair(session.fair_id, vacancy.id) if session.fair_id else None
            place = Place("live", {"live": session.id}, vacancy.id, vacancy.employer_id,
                          fair_id=session.fair_id, booth_id=booth.id if booth else None,
                          booth_number=booth.number if booth else None,
                          live_session_id=session.id, back_url=url_for("live.show", session_id=session.id))
            if session.status != "live":
                place.closed = (_("这场直播还没有开始，开播后才能登记。") if session.status == "scheduled"
                                else _("这场直播已经结束，不再接受登记。"))
        place.__dict__["vacancy"] = vacancy
    if not place.closed and not is_open:
        place.closed = _("这个岗位已经招满或停止招聘。")
    return place


def _booth_at_fair(fair_id: int, vacancy_id: int) -> Booth | None:
    return db.session.scalar(
        select(Booth).join(BoothVacancy, BoothVacancy.booth_id == Booth.id).where(
            Booth.fair_id == fair_id, Booth.status == "approved",
            BoothVacancy.vacancy_id == vacancy_id,
        ).limit(1)
    )


def _fair_closed(status: str) -> str:
    if status in SIGNABLE_STATUSES:
        return ""
    if status == "closed":
        return _("本场招聘会已结束，不再接受登记。")
    return _("本场招聘会还没有开始接受登记。")


def _slot() -> str:
    slot = (request.values.get("slot") or "intent").strip()
    return slot if _SLOT.fullmatch(slot) else "intent"


# --- abuse limits ---------------------------------------------------------------------------
#
# Every limit is counted before the signing it lets through, in one atomic step: forty taps at
# once from one phone cannot all pass a check that the twenty-first should fail.
# - Per IP: a hit on the limiter's store (Redis, or this process's memory).
# - Per phone and per device, with Redis: a hit there too, under a keyed hash of the number or
#   device (never the number itself in a key name).
# - Per phone and per device on the embedded tier (no Redis): the last hour's intents counted
#   in the database, inside the signing's own write transaction, so the count survives a
#   restart of the worker and cannot be raced.

def _shared_store() -> bool:
    return not current_app.config["RATELIMIT_STORAGE_URI"].startswith("memory")


def _keyed(kind: str, value) -> str:
    """A keyed hash standing for a phone number or device in a rate-limit key: the same for
    every process of the site, and useless to whoever reads the key names without the key."""
    secret = current_app.config["SECRET_KEY"]
    secret = secret if isinstance(secret, bytes) else str(secret).encode()
    return hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:24]


@lru_cache(maxsize=32)
def _parse(spec: str):
    return limits.parse(spec)


def _window(spec: str) -> tuple[int, int]:
    item = _parse(spec)
    return item.amount, item.get_expiry()


@dataclass(frozen=True)
class Limits:
    hits: list[tuple[str, str]]  # (limit, key) counted in the limiter's store
    recent: service.RecentLimits | None  # counted in the database, inside the signing


def _limits(phone: str | None, device_id: int | None) -> Limits:
    if not limiter.enabled:
        return Limits([], None)
    config = current_app.config
    # The deployment's key prefix keeps two sites sharing one Redis apart.
    prefix = config["RATELIMIT_KEY_PREFIX"]
    hits, recent = [], None
    if _shared_store():
        if phone:
            hits.append((config["INTENT_LIMIT_PER_PHONE"], f"{prefix}/intent-phone/{_keyed('phone', phone)}"))
        if device_id:
            hits.append((config["INTENT_LIMIT_PER_DEVICE"], f"{prefix}/intent-device/{_keyed('device', device_id)}"))
    else:
        recent = service.RecentLimits(
            phone=_window(config["INTENT_LIMIT_PER_PHONE"]) if phone else None,
            device=_window(config["INTENT_LIMIT_PER_DEVICE"]) if device_id else None,
        )
    # The address last: a person over their own limit does not use up the address's.
    hits.append((config["INTENT_LIMIT_PER_IP"], f"{prefix}/intent-ip/{request.remote_addr or '-'}"))
    return Limits(hits, recent)


def _hit(limits_: Limits) -> bool:
    """Count this signing against each limit (stopping at the first one it would exceed);
    whether all of them let it through."""
    strategy = limiter.limiter
    return all(strategy.hit(_parse(spec), "fairsite", key) for spec, key in limits_.hits)


def _may_sign(attendee_id: int, device_id: int | None, vacancy_id: int,
              recent: service.RecentLimits | None) -> bool:
    """Inside the signing's write transaction: whether the limits counted in the database let
    this attendee sign once more. Signing again what they signed already always may."""
    if recent is None:
        return True
    service.lock_attendee(attendee_id)
    return not recent.exceeded(attendee_id, device_id) or service.has_active_intent(attendee_id, vacancy_id)


def _already_signed(attendee_id: int, vacancy_id: int) -> bool:
    return db.session.scalar(
        select(Intent.id).where(Intent.attendee_id == attendee_id, Intent.vacancy_id == vacancy_id,
                                Intent.withdrawn_at.is_(None))
    ) is not None


def _too_many(place: Place, slot: str):
    return render("intents/limited.html", "intents/_limited.html", 429, place=place, slot=slot)


# --- signing ------------------------------------------------------------------------------

# The CSRF check is made here, not before every view (csrf.exempt): the booth page a first
# scan opens carries no token (fairsite/booths/public.py), and its tap only asks for the short
# form, which changes nothing. What does change something is checked: a known phone's tap
# (web.own_request: its token, or for a page shown before the phone was known, the browser
# saying the request came from this site's own page), and the short form sent (its token,
# through the form).

@bp.route("/intents/sign", methods=["GET", "POST"])
@csrf.exempt
def sign():
    """Sign intent for one vacancy. A known device signs with this one request; an unknown one
    gets the short form first (in place with htmx, as a page without)."""
    place = resolve_place(request.values)
    slot = _slot()
    device = current_device()
    key = _sign_key() if request.method == "POST" else None
    if request.method == "POST" and device is not None and not own_request():
        # Not shown to be this phone's own tap: it signs nothing, and the button comes back
        # with this phone's token, to be tapped again.
        return render("intents/sign.html", "intents/_button.html", place=place, slot=slot, form=None,
                      vacancy=place.vacancy, where=place.where, signed=False, id_prefix=slot)
    # A repeat is answered as its first copy was, even should the fair have closed since.
    repeat = _repeated(key, place, slot, device)
    if repeat is not None:
        return repeat
    if place.closed:
        return render("intents/closed.html", "intents/_closed.html", place=place, slot=slot)
    if device is None:
        return _sign_with_form(place, slot, key)
    if request.method == "GET":
        return render("intents/sign.html", place=place, slot=slot, form=None)
    attendee = service.attendee_ref(device.attendee_id)
    if _needs_code(place, attendee.phone) and not _already_signed(attendee.id, place.vacancy_id):
        asked = _code_step(place, slot, key, attendee.phone, attendee_id=attendee.id)
        if asked is not None:
            return asked
    limits_ = _limits(attendee.phone, device.id)
    if not _hit(limits_) and not _already_signed(attendee.id, place.vacancy_id):
        return _too_many(place, slot)
    signed = group_commit.commit(lambda: _record(attendee, place, device.id, limits_.recent, key))
    if signed is None:
        return _too_many(place, slot)
    return _signed(place, slot, signed)


# --- the idempotency key ------------------------------------------------------------------
#
# Each intent button carries a key made when it was rendered. The signing it makes stores the
# key beside its intent; the same key sent again (a retry on a congested network, a signing
# the phone kept while offline and sends later, twice) is answered as that signing, before any
# limit is counted: one intent, the same answer, whatever the number of retries.

@bp.app_template_global()
def new_sign_key(vacancy_id: int | None = None) -> str:
    """A fresh key for one intent button (a shared render replaces this, see booths.public)."""
    return secrets.token_urlsafe(18)


def _sign_key() -> str | None:
    raw = request.form.get("sign_key") or ""
    # A malformed key is no key: the signing goes on as a plain one.
    return raw if _SIGN_KEY.fullmatch(raw) else None


_REPEATED = (
    "SELECT k.intent_id, k.device_id, k.created_at, d.token, a.phone, i.withdrawn_at "
    "FROM sign_keys k JOIN intents i ON i.id = k.intent_id "
    "JOIN attendees a ON a.id = i.attendee_id "
    "LEFT JOIN devices d ON d.id = k.device_id "
    "WHERE k.key = :key AND k.vacancy_id = :vacancy_id"
)


def _repeated(key: str | None, place: Place, slot: str, device):
    """The answer to a signing this key made already, or None when it is a new one. A key of
    another device (or another vacancy) is no repeat: that request signs for itself."""
    if key is None:
        return None
    row = fetch_one(_REPEATED, {"key": key, "vacancy_id": place.vacancy_id})
    if row is None:
        return None
    intent_id, key_device_id, created_at, device_token, phone, withdrawn_at = row
    if device is not None:
        if key_device_id is not None and key_device_id != device.id:
            return None
        if withdrawn_at is not None:
            # Withdrawn since: an old copy of the tap does not sign it again.
            return after_write(place.back_url or url_for("intents.me"), "intents/_button.html",
                               vacancy=place.vacancy, where=place.where, signed=False, id_prefix=slot)
        return _signed(place, slot, service.Signed(intent_id, False))
    # No device cookie: the answer to the first-time form got lost on the way (its cookie
    # with it). The same form sent again, with the same phone number, gets that cookie back.
    if request.form.get("step") != "form" or not device_token:
        return None
    form = AttendeeForm()
    if not form.validate() or form.normalised_phone != phone:
        return None
    if _as_naive(created_at) < utcnow().replace(tzinfo=None) - _REISSUE_WINDOW:
        return None
    return remember(_signed(place, slot, service.Signed(intent_id, False)), device_token)


def _as_naive(value):
    if isinstance(value, str):  # SQLite through a plain query
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=None)


def _store_key(key: str | None, vacancy_id: int, signed: service.Signed, device_id: int | None) -> None:
    """Inside the signing's transaction: this key names this signing from now on."""
    if key is None:
        return
    fetch_one(
        "INSERT INTO sign_keys (key, vacancy_id, intent_id, device_id, created_at) "
        "VALUES (:key, :vacancy_id, :intent_id, :device_id, :now) "
        "ON CONFLICT (key) DO NOTHING RETURNING key",
        {"key": key, "vacancy_id": vacancy_id, "intent_id": signed.intent_id,
         "device_id": device_id, "now": utcnow()},
    )


def _record(attendee: service.AttendeeRef, place: Place, device_id: int,
            recent: service.RecentLimits | None = None, key: str | None = None) -> service.Signed | None:
    """The signing job (it runs in the group-commit writer: ids and plain values only).
    None when a limit counted in the database refuses it."""
    if not _may_sign(attendee.id, device_id, place.vacancy_id, recent):
        return None
    vacancy = service.VacancyRef(place.vacancy_id, place.employer_id)
    signed = service.record_intent(
        attendee, vacancy, place.source, fair_id=place.fair_id, booth_id=place.booth_id,
        live_session_id=place.live_session_id, device_id=device_id,
    )
    _store_key(key, place.vacancy_id, signed, device_id)
    return signed


def _sign_with_form(place: Place, slot: str, key: str | None = None):
    form = AttendeeForm()
    submitted = request.method == "POST" and request.form.get("step") == "form"
    valid = submitted and form.validate()
    if submitted and not valid and form.errors.get("csrf_token"):
        # The form's token no longer matches the session (it ended): as every other form.
        raise CSRFError(form.errors["csrf_token"][0])
    if not valid:
        # The form carries on the key of the button that opened it.
        return render("intents/sign.html", "intents/_form.html", place=place, form=form, slot=slot,
                      sign_key=key or new_sign_key())
    phone = form.normalised_phone
    verified_now = False
    if _needs_code(place, phone):
        asked = _code_step(place, slot, key, phone, form=form)
        if asked is not None:
            return asked
        verified_now = True
    limits_ = _limits(phone, None)
    if not _hit(limits_):
        return _too_many(place, slot)
    name, groups = form.name.data, form.groups.data or []
    consent_version = current_app.config["CONSENT_VERSION"]
    wants_push = bool(form.push.data)

    def write():
        attendee, created = service.find_or_create_attendee(name, phone, groups, consent_version)
        # The push consent is the person's own: given with a new number, or by whoever just
        # proved the number is theirs with a code (never by someone typing another's number).
        if wants_push and (created or verified_now):
            sms_push.record_consent(attendee.id)
        # Refused before a device is added: a number over its limit gets no new cookie either.
        if not created and not _may_sign(attendee.id, None, place.vacancy_id, limits_.recent):
            return None, None
        device_id, device_token = service.add_device(attendee.id, full_access=created)
        return _record(attendee, place, device_id, key=key), device_token

    signed, token = group_commit.commit(write)
    if signed is None:
        return _too_many(place, slot)
    response = _signed(place, slot, signed)
    return remember(response, token)


# --- the verification code step (fairs.verify_phone) ------------------------------------------
#
# Between the sign form (or the tap of a known phone) and the confirmation: the code sent by
# text is asked for in a plain form that carries everything the signing needs (the first-time
# form's fields, the idempotency key), so it works without JavaScript, and a signing the phone
# kept offline that is sent later gets this form as its answer, in its slot.

def _needs_code(place: Place, phone: str) -> bool:
    return bool(place.fair_id) and sms_codes.required(place.fair_id) \
        and not sms_codes.verified(place.fair_id, phone)


def _code_step(place: Place, slot: str, key: str | None, phone: str, *,
               form: AttendeeForm | None = None, attendee_id: int | None = None):
    """None when the code sent says this is the phone's owner; else the code form."""
    notice, error, status = "", "", 200
    if request.form.get("code_step") == "check":
        checked = sms_codes.check(place.fair_id, phone, request.form.get("code"))
        if checked.ok:
            return None
        error = checked.message
    else:
        fair = db.session.get(Fair, place.fair_id)
        issued = sms_codes.issue(place.fair_id, fair.title, phone, request.remote_addr,
                                 attendee_id=attendee_id)
        sms_service.dispatch(issued.message_ids)
        notice = issued.notice
        if issued.limited:
            error, notice, status = notice, "", 429
    carry = []
    if form is not None:
        carry = [("step", "form"), ("name", form.name.data), ("phone", phone), ("consent", "y")]
        carry += [("groups", g) for g in form.groups.data or []]
        if form.push.data:
            carry.append(("push", "y"))
    response = render("intents/code.html", "intents/_code.html", status, place=place, slot=slot,
                      sign_key=key or new_sign_key(), carry=carry, phone=phone, notice=notice,
                      error=error)
    # The phone's offline queue shows this answer even when the page it was kept on is gone.
    response.headers["X-Fs-Needs-Code"] = "1"
    return response


def _signed(place: Place, slot: str, signed: service.Signed):
    if signed.created:
        events.intent_changed(place.fair_id, place.live_session_id, place.employer_id)
    location = url_for("intents.done", vacancy_id=place.vacancy_id, **place.where)
    if not is_htmx():  # a plain form: a redirect, nothing to render
        return after_write(location)
    return after_write(
        location, "intents/_button.html", vacancy=place.vacancy, where=place.where, signed=True,
        place=place, id_prefix=slot,
    )


@bp.get("/intents/done")
def done():
    """The confirmation after a plain-form signing: what happens next."""
    place = resolve_place(request.args)
    device = current_device()
    if device is None:
        return redirect(place.back_url or url_for("fairs.index"))
    return render("intents/done.html", place=place)


# --- my intents ---------------------------------------------------------------------------

def _my_intents(device):
    return db.session.execute(
        select(Intent, Vacancy, Employer, Booth.number)
        .join(Vacancy, Vacancy.id == Intent.vacancy_id)
        .join(Employer, Employer.id == Intent.employer_id)
        .outerjoin(Booth, Booth.id == Intent.booth_id)
        .where(device.visible())
        .order_by(Intent.created_at.desc(), Intent.id.desc())
    ).all()


@bp.get("/me")
def me():
    device = current_device()
    if device is None:
        return render("intents/me.html", device=None, rows=[], attendee=None)
    attendee = db.session.get(Attendee, device.attendee_id) if device.full_access else None
    return render("intents/me.html", device=device, rows=_my_intents(device), attendee=attendee)


@bp.post("/me/intents/<int:intent_id>/withdraw")
def withdraw(intent_id: int):
    device = current_device()
    intent = db.session.get(Intent, intent_id)
    if device is None or intent is None or not device.can_see(intent):
        abort(404)
    intent = service.withdraw(intent.id, device.attendee_id)
    if intent is None:
        abort(404)
    events.intent_changed(intent.fair_id, intent.live_session_id, intent.employer_id)
    row = db.session.execute(
        select(Intent, Vacancy, Employer, Booth.number)
        .join(Vacancy, Vacancy.id == Intent.vacancy_id)
        .join(Employer, Employer.id == Intent.employer_id)
        .outerjoin(Booth, Booth.id == Intent.booth_id)
        .where(Intent.id == intent.id)
    ).one()
    return after_write(url_for("intents.me"), "intents/_my_intent.html", row=row)


@bp.route("/me/delete", methods=["GET", "POST"])
def delete_me():
    device = current_device()
    if device is None:
        return redirect(url_for("intents.me"))
    if request.method == "GET":
        return render("intents/delete.html", device=device)
    if request.form.get("confirm") != "yes":
        return render("intents/delete.html", device=device, need_confirm=True)
    # Who must hear of it: read before the rows go.
    touched = set(db.session.execute(
        select(Intent.fair_id, Intent.live_session_id, Intent.employer_id).where(device.visible())
    ).all())
    if device.full_access:
        erased = service.erase_attendee(device.attendee_id)
    else:
        erased = service.erase_device(device.id)
    # Fairs where only a check-in went (进场人数) move too.
    touched |= {(fair_id, live_id, None) for fair_id, live_id in erased}
    for fair_id, live_id, employer_id in touched:
        events.intent_changed(fair_id, live_id, employer_id)
    flash(_("您的信息已删除。"), "ok")
    response = redirect(url_for("intents.me"), code=303)
    return forget(response)


@bp.app_template_global()
def intent_signed(vacancy_id: int) -> bool:
    """For the intent button: whether this device's attendee signed `vacancy_id`. All the
    device's signed vacancies are read once per request."""
    ids = request.environ.get("fairsite.signed_ids")
    if ids is None:
        device = current_device()
        ids = set() if device is None else set(db.session.scalars(
            select(Intent.vacancy_id).where(device.visible(), Intent.withdrawn_at.is_(None))
        ))
        request.environ["fairsite.signed_ids"] = ids
    return vacancy_id in ids

