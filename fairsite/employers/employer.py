"""The employer's own home: dashboard, company profile, and the staff logins of the firm."""
from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from fairsite.accounts.models import EMPLOYER, User
from fairsite.accounts.service import employer_required, normalise_login, own_employer_id
from fairsite.audit.service import record
from fairsite.booths.models import Booth
from fairsite.booths.service import touch_employer
from fairsite.employers.forms import INDUSTRIES, ProfileForm, StaffForm
from fairsite.employers.models import Employer
from fairsite.extensions import db
from fairsite.fairs.models import Fair
from fairsite.intents.service import IntentFilter, intent_rows
from fairsite.sql import write_transaction
from fairsite.vacancies.models import Vacancy
from fairsite.web import after_write, render, wants_fragment

bp = Blueprint("employer", __name__)


def own_employer() -> Employer:
    return db.session.get(Employer, own_employer_id())


@bp.get("/employer")
@employer_required
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
    newest, total = intent_rows(employer_id, IntentFilter(), limit=8)
    return render(
        "employers/dashboard.html",
        employer=own_employer(),
        booths=booths,
        open_vacancies=counts.get(True, 0),
        closed_vacancies=counts.get(False, 0),
        newest=newest,
        newest_total=total,
    )


@bp.route("/employer/profile", methods=["GET", "POST"])
@employer_required
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
@employer_required
def staff():
    employer_id = own_employer_id()
    form = StaffForm()
    if form.validate_on_submit():
        login = normalise_login(form.login.data)
        user = User(login=login, name=form.name.data, role=EMPLOYER, employer_id=employer_id)
        user.set_password(form.password.data)
        db.session.add(user)
        try:
            db.session.flush()
            record("account.create", "user", user.id, user.name)
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
    return render("employers/staff.html", None, status, form=form, members=members, me=current_user)


@bp.post("/employer/staff/<int:user_id>/active")
@employer_required
def staff_active(user_id: int):
    """Switch a colleague's login off (someone left) or on again. Not one's own login, so an
    employer cannot lock itself out by mistake."""
    employer_id = own_employer_id()
    active = request.form.get("active") == "1"
    with write_transaction():
        member = db.session.get(User, user_id)
        if member is None or member.employer_id != employer_id:
            abort(404)
        if member.id == current_user.id:
            flash(_("不能停用自己正在使用的账号"), "error")
            return after_write(url_for("employer.staff"))
        member.active = active
        if not active:
            member.end_sessions()  # the colleague's open sessions end now, and stay ended
        record("account.activate" if active else "account.deactivate", "user", member.id, member.name)
        name = member.name
    flash(_("已启用 %(name)s 的账号", name=name) if active else _("已停用 %(name)s 的账号", name=name), "ok")
    return after_write(url_for("employer.staff"))
