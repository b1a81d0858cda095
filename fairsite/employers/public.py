"""Employer self-registration: a firm and its first staff login, from the public site. The
firm is "pending" until an organiser approves it (fairsite/employers/manage.py)."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from fairsite.accounts.models import EMPLOYER, User
from fairsite.accounts.service import home_for, normalise_login, start_session
from fairsite.employers.forms import INDUSTRIES, RegisterForm
from fairsite.employers.models import PENDING, Employer
from fairsite.extensions import db, limiter

bp = Blueprint("employers", __name__)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["REGISTER_RATE_LIMIT"], methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = RegisterForm()
    if form.validate_on_submit():
        login = normalise_login(form.login.data)
        if db.session.scalar(select(func.count()).select_from(User).where(User.login == login)):
            form.login.errors.append(_("这个账号已经注册过了，请直接登录"))
        elif db.session.scalar(
            select(func.count()).select_from(Employer).where(Employer.credit_code == form.credit_code.data)
        ):
            form.credit_code.errors.append(_("这家企业已经注册，请联系企业已有的账号添加您"))
        else:
            employer = Employer(
                name=form.name.data.strip(),
                credit_code=form.credit_code.data,
                industry=(form.industry.data or "").strip(),
                contact_name=form.contact_name.data.strip(),
                contact_phone=form.contact_phone.data,
                status=PENDING,
            )
            user = User(login=login, name=form.contact_name.data.strip(), role=EMPLOYER, employer=employer)
            user.set_password(form.password.data)
            db.session.add_all([employer, user])
            try:
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
                form.login.errors.append(_("这个账号或企业已经注册过了"))
            else:
                start_session(user)
                flash(_("注册成功。企业资料等待主办方审核，审核通过后展位和直播才会对外公开。"), "ok")
                return redirect(home_for(user), code=303)
    status = 422 if form.errors else 200
    return render_template("accounts/register.html", form=form, industries=INDUSTRIES), status
