"""The organiser admin's staff page (/manage/staff): invite a colleague with a first password
shown once, change a colleague's role, switch a login off or on again. A role change or a
switch-off ends that login's sessions; every change is in the audit log. The bureau always
keeps an active admin (fairsite.accounts.service refuses the change that would leave none)."""
from __future__ import annotations

import secrets

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from fairsite.accounts.forms import InviteForm, RoleForm
from fairsite.accounts.models import (
    ADMIN,
    ORGANISER,
    STAFF_ROLE_HINTS,
    STAFF_ROLES,
    User,
    hash_password,
)
from fairsite.accounts.service import (
    change_staff_role,
    home_for,
    normalise_login,
    organiser_roles,
    role_choices,
    set_staff_active,
    start_session,
)
from fairsite.audit.service import record
from fairsite.extensions import db
from fairsite.sql import write_transaction
from fairsite.web import after_write, render

bp = Blueprint("manage_accounts", __name__)

# A first password read out or copied once: no 0/O, 1/l/I to mistake for each other.
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def first_password() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(12))


def _invite_form() -> InviteForm:
    form = InviteForm()
    form.staff_role.choices = role_choices(ORGANISER)
    return form


def _page(form: InviteForm, status: int = 200, invited: User | None = None, password: str = ""):
    members = db.session.scalars(
        select(User).where(User.role == ORGANISER).order_by(User.active.desc(), User.id)
    ).all()
    return render(
        "accounts/manage_staff.html", None, status, form=form, members=members, me=current_user,
        roles=STAFF_ROLES[ORGANISER], hints=STAFF_ROLE_HINTS[ORGANISER],
        invited=invited, password=password,
    )


def _member(user_id: int) -> User:
    """An organiser login, locked for the change (anyone else's id is a 404)."""
    member = db.session.get(User, user_id, with_for_update=True, populate_existing=True)
    if member is None or member.role != ORGANISER:
        abort(404)
    return member


@bp.get("/manage/staff")
@organiser_roles(ADMIN)
def index():
    return _page(_invite_form())


@bp.post("/manage/staff")
@organiser_roles(ADMIN)
def invite():
    """Create the login with a first password shown on this answer only (it is stored nowhere
    but as a hash, so it cannot survive a redirect); the colleague must change it at once."""
    form = _invite_form()
    if not form.validate():
        return _page(form, 422)
    login = normalise_login(form.login.data)
    password = first_password()
    password_hash = hash_password(password)  # before the write: it takes a while
    with write_transaction():
        taken = db.session.scalar(select(func.count()).select_from(User).where(User.login == login))
        if not taken:
            user = User(login=login, name=form.name.data, role=ORGANISER,
                        staff_role=form.staff_role.data, password_hash=password_hash,
                        must_change_password=True)
            db.session.add(user)
            db.session.flush()
            record("account.create", "user", user.id, f"{user.name} {user.staff_role}")
    if taken:
        form.login.errors.append(_("这个账号已经存在，请换一个手机号或邮箱"))
        return _page(form, 422)
    return _page(_invite_form(), 201, invited=user, password=password)


@bp.post("/manage/staff/<int:user_id>/role")
@organiser_roles(ADMIN)
def role(user_id: int):
    form = RoleForm()
    form.staff_role.choices = role_choices(ORGANISER)
    staff_role = form.staff_role.data if form.validate() else ""
    with write_transaction():
        member = _member(user_id)
        before = member.staff_role
        refused = change_staff_role(member, staff_role)
        if refused is None and before != member.staff_role:
            record("account.role", "user", member.id, f"{member.name} {before}→{member.staff_role}")
        changed = refused is None and before != member.staff_role
        name, label = member.name, member.staff_role_label
    if refused:
        flash(refused, "error")
        return after_write(url_for("manage_accounts.index"))
    if changed and member.id == current_user.id:
        # One's own other sessions end; this one goes on, with the new role.
        start_session(member)
        flash(_("您的角色已改为“%(role)s”", role=label), "ok")
        return after_write(home_for(member))
    if changed:
        flash(_("%(name)s 的角色已改为“%(role)s”，其登录已退出", name=name, role=label), "ok")
    return after_write(url_for("manage_accounts.index"))


@bp.post("/manage/staff/<int:user_id>/active")
@organiser_roles(ADMIN)
def active(user_id: int):
    switch_on = request.form.get("active") == "1"
    with write_transaction():
        member = _member(user_id)
        was = member.active
        refused = set_staff_active(member, switch_on)
        if refused is None and was != switch_on:
            record("account.activate" if switch_on else "account.deactivate", "user", member.id,
                   member.name)
        name = member.name
    if refused:
        flash(refused, "error")
        return after_write(url_for("manage_accounts.index"))
    flash(_("已启用 %(name)s 的账号", name=name) if switch_on else _("已停用 %(name)s 的账号", name=name), "ok")
    return after_write(url_for("manage_accounts.index"))
