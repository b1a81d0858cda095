"""The employer's own home: dashboard, company profile, and the staff logins of the firm."""
from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from fairsite.accounts.models import ADMIN, BOOTH, EMPLOYER, STAFF_ROLE_HINTS, STAFF_ROLES, User
from fairsite.accounts.service import (
    change_staff_role,
    employer_roles,
    home_for,
    normalise_login,
    own_employer_id,
    role_choices,
    set_staff_active,
    start_session,
)
from fairsite.audit.service import record
from fairsite.booths.models import Booth
from fairsite.booths.service import touch_employer
from fairsite.employers.forms import INDUSTRIES, ProfileForm, StaffForm
from fairsite.employers.models import Employer
from fairsite.extensions import db
from fairsite.fairs.models import Fair
from fairsite.intents.service import (
    IntentFilter,
    count_rows,
    follow_up_hours,
    intent_rows,
    waiting_people,
)
from fairsite.sql import write_transaction
from fairsite.vacancies.models import Vacancy
from fairsite.web import after_write, render, wants_fragment

bp = Blueprint("employer", __name__)


def own_employer() -> Employer:
    return db.session.get(Employer, own_employer_id())


@bp.get("/employer")
@employer_roles(ADMIN, BOOTH)
def dashboard():
    employer_id = own_employer_id()
    booths = db.session.execute(
        select(Booth, Fair.title, Fair.date)
        .join(Fair, Fair.id == Booth.fair_id)
        .where(Booth.employer_id == employer_id)
        .order_by(Fair.date.desc(), Booth.id.desc())
    ).all()
    counts = dict(
        db.session.execute(
            select(Vacancy.is_open, func.count()).where(Vacancy.employer_id == employer_id)
            .group_by(Vacancy.is_open)
        ).all()
    )
    newest = intent_rows(employer_id, IntentFilter(), limit=8, with_count=False).rows
    # The whole count, once per visit (the list itself counts up to a limit, on every refresh).
    total, _more = count_rows(employer_id, IntentFilter())
    return render(
        "employers/dashboard.html",
        employer=own_employer(),
        booths=booths,
        open_vacancies=counts.get(True, 0),
        closed_vacancies=counts.get(False, 0),
        newest=newest,
        newest_total=total,
        # People still 待联系 after FOLLOW_UP_HOURS: the bureau ranks employers by it.
        waiting=waiting_people(employer_id),
        waiting_hours=round(follow_up_hours()),
    )


@bp.route("/employer/profile", methods=["GET", "POST"])
@employer_roles(ADMIN)
def profile():
    employer = own_employer()
    form = ProfileForm(obj=employer)
    if form.validate_on_submit():
        taken = db.session.scalar(
            select(func.count()).select_from(Employer)
            .where(Employer.credit_code == form.credit_code.data, Employer.id != employer.id)
        )
        if taken:
            form.credit_code.errors.append(_("这个统一社会信用代码已被另一家企业使用"))
        else:
            with write_transaction():
                employer = own_employer()
                form.populate_obj(employer)
                # The booth pages show the employer's name: let them refresh.
                touch_employer(employer.id)
            flash(_("企业资料已保存"), "ok")
            return after_write(url_for("employer.profile"))
    status = 422 if form.errors and not wants_fragment() else 200
    return render("employers/profile.html", None, status, form=form, industries=INDUSTRIES)


@bp.route("/employer/staff", methods=["GET", "POST"])
@employer_roles(ADMIN)
def staff():
    employer_id = own_employer_id()
    form = StaffForm()
    form.staff_role.choices = role_choices(EMPLOYER)
    if form.validate_on_submit():
        login = normalise_login(form.login.data)
        user = User(login=login, name=form.name.data, role=EMPLOYER, employer_id=employer_id,
                    staff_role=form.staff_role.data)
        user.set_password(form.password.data)
        db.session.add(user)
        try:
            db.session.flush()
            record("account.create", "user", user.id, f"{user.name} {user.staff_role}")
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            form.login.errors.append(_("这个账号已经存在，请换一个手机号或邮箱"))
        else:
            flash(_("已添加账号 %(login)s，请把账号和初始密码告诉同事", login=login), "ok")
            return after_write(url_for("employer.staff"))
    members = db.session.scalars(
        select(User).where(User.employer_id == employer_id).order_by(User.id)
    ).all()
    status = 422 if form.errors else 200
    return render("employers/staff.html", None, status, form=form, members=members, me=current_user,
                  roles=STAFF_ROLES[EMPLOYER], hints=STAFF_ROLE_HINTS[EMPLOYER])


def _own_member(user_id: int) -> User:
    """A colleague's login, locked for the change (another employer's is a 404)."""
    member = db.session.get(User, user_id, with_for_update=True, populate_existing=True)
    if member is None or member.employer_id != own_employer_id():
        abort(404)
    return member


@bp.post("/employer/staff/<int:user_id>/active")
@employer_roles(ADMIN)
def staff_active(user_id: int):
    """Switch a colleague's login off (someone left; its open sessions end now, and stay
    ended) or on again. Not one's own login, so an employer cannot lock itself out by mistake."""
    active = request.form.get("active") == "1"
    with write_transaction():
        member = _own_member(user_id)
        was = member.active
        refused = set_staff_active(member, active)
        if refused is None and was != active:
            record("account.activate" if active else "account.deactivate", "user", member.id, member.name)
        name = member.name
    if refused:
        flash(refused, "error")
        return after_write(url_for("employer.staff"))
    flash(_("已启用 %(name)s 的账号", name=name) if active else _("已停用 %(name)s 的账号", name=name), "ok")
    return after_write(url_for("employer.staff"))


@bp.post("/employer/staff/<int:user_id>/role")
@employer_roles(ADMIN)
def staff_role(user_id: int):
    """Make a colleague an admin (staff, exports, full numbers) or booth staff (masked lists,
    statuses and notes). Their sessions end; the firm always keeps an active admin."""
    staff_role = request.form.get("staff_role", "")
    with write_transaction():
        member = _own_member(user_id)
        before = member.staff_role
        refused = change_staff_role(member, staff_role)
        changed = refused is None and before != member.staff_role
        if changed:
            record("account.role", "user", member.id, f"{member.name} {before}→{member.staff_role}")
        name, label = member.name, member.staff_role_label
    if refused:
        flash(refused, "error")
        return after_write(url_for("employer.staff"))
    if changed and member.id == current_user.id:
        start_session(member)  # one's own other sessions end; this one goes on, in the new role
        flash(_("您的角色已改为“%(role)s”", role=label), "ok")
        return after_write(home_for(member))
    if changed:
        flash(_("%(name)s 的角色已改为“%(role)s”，其登录已退出", name=name, role=label), "ok")
    return after_write(url_for("employer.staff"))
