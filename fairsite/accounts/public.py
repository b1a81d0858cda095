"""Staff log in and out (organisers and employer staff; attendees never log in)."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from fairsite.accounts.forms import LoginForm
from fairsite.accounts.models import User
from fairsite.accounts.service import home_for, safe_next
from fairsite.extensions import db, limiter

bp = Blueprint("accounts", __name__)


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
