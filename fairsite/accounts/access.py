"""Who may see a page. A wrong role gets 404, as if the page did not exist; anonymous users
are sent to log in."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user

from fairsite.extensions import login_manager


def _role_required(role: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role != role:
                abort(404)
            return view(*args, **kwargs)

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

    return wrapped


def own_employer_id() -> int:
    """The employer the logged-in staff member works for (404 for anyone else)."""
    if not current_user.is_authenticated or current_user.employer_id is None:
        abort(404)
    return current_user.employer_id
