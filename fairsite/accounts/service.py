"""Who may see a page, and where a staff member goes after logging in. A wrong kind of login
gets 404, as if the page did not exist; a staff role of the right kind without the right gets
403; anonymous users are sent to log in.

Each access decorator marks its view with the audience it serves (`view.audience`:
"organiser", "employer" or "staff") and the roles it allows (`view.roles`, a set of
"organiser:admin", "employer:booth"...), so tests can walk every route for every role from the
url_map (tests/test_roles.py), and templates hide what a role cannot open (may_open)."""
from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from flask import abort, current_app, flash, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from sqlalchemy import select

from fairsite.accounts.models import (
    ADMIN,
    EMPLOYER,
    ORGANISER,
    STAFF_ROLES,
    User,
    check_unknown_login,
)
from fairsite.extensions import db, login_manager
from fairsite.web import after_write


def _access(audience: str, allowed: dict[str, tuple[str, ...]], *, declared: bool = True) -> Callable:
    """The access decorator: `allowed` maps a kind of login to the staff roles that may open
    the view. Anonymous visitors are sent to log in; another kind of login gets 404 (as if the
    page did not exist), a role of the right kind without the right gets 403; a login invited
    with a password someone else saw goes to choose its own first."""
    kinds = frozenset(allowed)
    keys = frozenset(f"{kind}:{role}" for kind, roles in allowed.items() for role in roles)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in kinds:
                abort(404)
            if current_user.must_change_password and request.endpoint != "accounts.password":
                flash(_("请先设置您自己的密码。"), "error")
                return after_write(url_for("accounts.password"))
            if current_user.access_key not in keys:
                abort(403)
            return view(*args, **kwargs)

        wrapped.audience = audience
        if declared:
            wrapped.roles = keys
        elif hasattr(wrapped, "roles"):
            del wrapped.roles  # functools.wraps copied the inner view's attributes
        return wrapped

    return decorator


def organiser_roles(*roles: str) -> Callable:
    """Organisers with one of these staff roles, e.g. @organiser_roles(ADMIN, DESK)."""
    return _access(ORGANISER, {ORGANISER: roles or ALL_ORGANISER_ROLES})


def employer_roles(*roles: str) -> Callable:
    """Employer staff with one of these staff roles, e.g. @employer_roles(ADMIN, BOOTH)."""
    return _access(EMPLOYER, {EMPLOYER: roles or ALL_EMPLOYER_ROLES})


def staff_roles(organiser: tuple[str, ...] = (), employer: tuple[str, ...] = ()) -> Callable:
    """Organisers and employer staff alike (running a live session, one's own password)."""
    allowed = {kind: roles for kind, roles in ((ORGANISER, organiser), (EMPLOYER, employer)) if roles}
    return _access("staff", allowed)


ALL_ORGANISER_ROLES = tuple(STAFF_ROLES[ORGANISER])
ALL_EMPLOYER_ROLES = tuple(STAFF_ROLES[EMPLOYER])

# Without declared roles: admins only, and tests/test_roles.py fails until the view says
# which roles it serves (use organiser_roles / employer_roles / staff_roles instead).
organiser_required = _access(ORGANISER, {ORGANISER: (ADMIN,)}, declared=False)
employer_required = _access(EMPLOYER, {EMPLOYER: (ADMIN,)}, declared=False)
staff_required = _access("staff", {ORGANISER: (ADMIN,), EMPLOYER: (ADMIN,)}, declared=False)


def may_open(endpoint: str) -> bool:
    """Whether the logged-in user's role may open `endpoint` (templates hide the links and
    buttons it may not use). A view without declared roles is for admins only."""
    if not current_user.is_authenticated:
        return False
    view = current_app.view_functions.get(endpoint)
    if view is None:
        return False
    roles = getattr(view, "roles", None)
    if roles is None:
        audience = getattr(view, "audience", None)
        if audience is None:
            return True
        kind_ok = audience in ("staff", current_user.role)
        return kind_ok and current_user.is_admin
    return current_user.access_key in roles


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
    if user.must_change_password:
        return url_for("accounts.password")
    if user.is_employer:
        return url_for("employer.dashboard")
    if user.is_organiser:
        return url_for("manage_fairs.index")
    return url_for("fairs.index")


def _other_active_admins(member: User) -> int:
    """Active admins of the member's kind (its employer, for employer staff) besides the
    member, their rows locked so two admins demoting themselves at once cannot both pass."""
    query = select(User.id).where(
        User.role == member.role, User.staff_role == ADMIN, User.active.is_(True),
        User.id != member.id,
    )
    if member.employer_id is not None:
        query = query.where(User.employer_id == member.employer_id)
    return len(db.session.scalars(query.with_for_update()).all())


def change_staff_role(member: User, staff_role: str) -> str | None:
    """Give `member` another staff role of its kind, inside the caller's write transaction:
    its sessions end (what it may open has changed). Returns why it was refused, or None.
    The last active admin cannot give up the role: somebody must be able to run the staff."""
    if staff_role not in STAFF_ROLES[member.role]:
        return _("请选择一个角色")
    if staff_role == member.staff_role:
        return None
    if member.staff_role == ADMIN and member.active and not _other_active_admins(member):
        return _("至少要保留一个在用的管理员账号")
    member.staff_role = staff_role
    member.end_sessions()
    return None


def set_staff_active(member: User, active: bool) -> str | None:
    """Switch `member` off (its sessions end now, and stay ended) or on again, inside the
    caller's write transaction. Not one's own login, so nobody locks themselves out."""
    if member.id == current_user.id:
        return _("不能停用自己正在使用的账号")
    if not active and member.active and member.staff_role == ADMIN and not _other_active_admins(member):
        return _("至少要保留一个在用的管理员账号")
    member.active = active
    if not active:
        member.end_sessions()
    return None


def role_choices(kind: str) -> list[tuple[str, str]]:
    return [(code, str(label)) for code, label in STAFF_ROLES[kind].items()]
