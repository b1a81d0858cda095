"""Employer self-registration: a firm and its first staff login, from the public site."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template
from flask_babel import gettext as _
from flask_login import current_user, login_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from fairsite.accounts.models import EMPLOYER, User
from fairsite.accounts.service import home_for
from fairsite.employers.forms import INDUSTRIES, RegisterForm
from fairsite.employers.models import Employer
from fairsite.extensions import db

bp = Blueprint("employers", __name__)


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = RegisterForm()
    if form.validate_on_submit():
        login = form.login.data.strip().lower()
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
                login_user(user, remember=True)
                flash(_("注册成功，欢迎使用"), "ok")
                return redirect(home_for(user), code=303)
    status = 422 if form.errors else 200
    return render_template("accounts/register.html", form=form, industries=INDUSTRIES), status
