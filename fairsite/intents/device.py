"""The attendee's device cookie: a signed, long-lived, HttpOnly cookie naming a Device row.
No password, no account: the phone that signed once is recognised afterwards.

A device that created the attendee (full_access) sees all the attendee's intents; a device that
signed with a phone number that already existed sees only the intents signed from it."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_

from fairsite.intents.models import Intent
from fairsite.sql import fetch_all, fetch_one

_SALT = "fairsite-device"
_KEY = "fairsite.device"


@dataclass(frozen=True)
class CurrentDevice:
    id: int
    attendee_id: int
    full_access: bool

    def visible(self):
        """A WHERE clause for the intents this device may see."""
        if self.full_access:
            return Intent.attendee_id == self.attendee_id
        return and_(Intent.attendee_id == self.attendee_id, Intent.device_id == self.id)

    def can_see(self, intent: Intent) -> bool:
        return intent.attendee_id == self.attendee_id and (
            self.full_access or intent.device_id == self.id
        )


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def current_device() -> CurrentDevice | None:
    """The device named by this request's cookie, or None (no cookie, bad signature, or the
    device was erased). Looked up once per request."""
    # Kept on the request (not on g, which tests share across requests of one app context).
    if _KEY in request.environ:
        return request.environ[_KEY]
    device = None
    raw = request.cookies.get(current_app.config["DEVICE_COOKIE_NAME"])
    if raw:
        try:
            token = _serializer().loads(raw)
        except BadSignature:
            token = None
        if isinstance(token, str):
            row = fetch_one("SELECT id, attendee_id, full_access FROM devices WHERE token = :t",
                            {"t": token})
            if row is not None:
                device = CurrentDevice(row[0], row[1], bool(row[2]))
    request.environ[_KEY] = device
    return device


def remember(response: Response, token: str) -> Response:
    """Set the device cookie on `response`."""
    config = current_app.config
    response.set_cookie(
        config["DEVICE_COOKIE_NAME"], _serializer().dumps(token),
        max_age=config["DEVICE_COOKIE_MAX_AGE"], httponly=True, samesite="Lax",
        secure=request.is_secure, path="/",
    )
    return response


def forget(response: Response) -> Response:
    response.delete_cookie(current_app.config["DEVICE_COOKIE_NAME"], path="/")
    return response


def signed_vacancy_ids(vacancy_ids: Iterable[int], device: CurrentDevice | None = None) -> set[int]:
    """Which of these vacancies this device's attendee has signed (and not withdrawn), as far
    as this device may see. For the intent button's "已登记 ✓" state."""
    device = device or current_device()
    ids = [int(i) for i in vacancy_ids]
    if device is None or not ids:
        return set()
    # Plain SQL: the booth page asks this on every visit by a known phone.
    params = {f"v{n}": v for n, v in enumerate(ids)}
    params["a"] = device.attendee_id
    sql = ("SELECT vacancy_id FROM intents WHERE attendee_id = :a AND withdrawn_at IS NULL "
           f"AND vacancy_id IN ({', '.join(':' + k for k in params if k != 'a')})")
    if not device.full_access:
        sql += " AND device_id = :d"
        params["d"] = device.id
    return {row[0] for row in fetch_all(sql, params)}


