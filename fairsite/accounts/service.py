"""Who may see a page, and where a staff member goes after logging in. A wrong role gets 404,
as if the page did not exist; anonymous users are sent to log in.

Each access decorator marks its view with the audience it serves (`view.audience`:
"organiser", "employer" or "staff"), so tests can walk every route of an audience from the
url_map."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from flask import abort, url_for
from flask_login import current_user

from fairsite.accounts.models import User
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
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id))
    # A login switched off (e.g. by the employer when someone leaves) ends its sessions too.
    return user if user is not None and user.active else None


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
