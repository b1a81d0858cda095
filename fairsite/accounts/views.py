"""Log in, log out, and employer self-registration."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from fairsite.accounts import bp
from fairsite.accounts.forms import INDUSTRIES, LoginForm, RegisterForm
from fairsite.accounts.models import EMPLOYER, User
from fairsite.employers.models import Employer
from fairsite.extensions import db, limiter, login_manager


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
        return url_for("employers.dashboard")
    if user.is_organiser:
        return url_for("fairs.manage_index")
    return url_for("fairs.index")


def _login_key() -> str:
    return f"{request.remote_addr}|{(request.form.get('login') or '').strip().lower()}"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], key_func=_login_key, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.login == form.login.data.strip().lower()))
        if user and user.active and user.check_password(form.password.data):
            login_user(user, remember=True)
            return redirect(safe_next(request.args.get("next")) or home_for(user), code=303)
        form.password.errors.append(_("账号或密码不正确"))
    return render_template("accounts/login.html", form=form), (422 if form.errors else 200)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash(_("已退出登录"), "ok")
    return redirect(url_for("fairs.index"), code=303)


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
