"""Who may see a page, and where a staff member goes after logging in. A wrong role gets 404,
as if the page did not exist; anonymous users are sent to log in.

Each access decorator marks its view with the audience it serves (`view.audience`:
"organiser", "employer" or "staff"), so tests can walk every route of an audience from the
url_map."""
from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from flask import abort, session, url_for
from flask_login import current_user, login_user
from sqlalchemy import select

from fairsite.accounts.models import User, check_unknown_login
from fairsite.extensions import db, login_manager


def _role_required(role: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role != role:
                abort(404)
            return view(*args, **kwargs)

        wrapped.audience = role
        return wrapped

    return decorator


organiser_required = _role_required("organiser")
employer_required = _role_required("employer")


def staff_required(view: Callable) -> Callable:
    """Any logged-in organiser or employer staff member."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    wrapped.audience = "staff"
    return wrapped


def own_employer_id() -> int:
    """The employer the logged-in staff member works for (404 for anyone else)."""
    if not current_user.is_authenticated or current_user.employer_id is None:
        abort(404)
    return current_user.employer_id


@login_manager.user_loader
def load_user(session_token: str) -> User | None:
    """The login a session or remember-me cookie names by its session token (User.get_id):
    a token that was replaced (logout, new password, login switched off) names nobody."""
    if not session_token or len(session_token) > 64:
        return None
    user = db.session.scalar(select(User).where(User.session_token == session_token))
    # A login switched off (e.g. by the employer when someone leaves) ends its sessions too.
    return user if user is not None and user.active else None


def normalise_login(raw: str | None) -> str:
    """A login as stored and as rate limits count it: NFKC (full-width letters and digits
    become plain ones), without control, format or space characters, lower case. So
    "HR@x.cn", "ＨＲ@x.cn " and "hr@x.cn\x00" are one login, and one throttle."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = "".join(c for c in text if not c.isspace() and unicodedata.category(c)[0] != "C")
    return text.lower()[:120]


def authenticate(login: str, password: str) -> User | None:
    """The active login with this name and password, or None. Takes as long for a login that
    does not exist (or is switched off) as for a wrong password: a password is checked either
    way, so the time of the answer does not tell which accounts exist."""
    user = db.session.scalar(select(User).where(User.login == normalise_login(login)))
    if user is None or not user.active:
        check_unknown_login(password)
        return None
    return user if user.check_password(password) else None


def start_session(user: User) -> None:
    """Log `user` in with a new session: whatever the browser's session held before (one
    another person may have planted, its CSRF token) is dropped first."""
    session.clear()
    login_user(user, remember=True)


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no host, no protocol-relative '//' or '\\'."""
    if not target:
        return None
    target = target.strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    return target


def home_for(user: User) -> str:
    if user.is_employer:
        return url_for("employer.dashboard")
    if user.is_organiser:
        return url_for("manage_fairs.index")
    return url_for("fairs.index")
