"""Staff log in and out, and change their password (organisers and employer staff; attendees
never log in). Logging out or changing the password ends every copy of the session (see
fairsite.accounts.models)."""
from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from fairsite.accounts.forms import LoginForm, PasswordForm
from fairsite.accounts.models import ADMIN, BOOTH, DESK, VIEWER, User, hash_password
from fairsite.accounts.service import (
    authenticate,
    home_for,
    normalise_login,
    safe_next,
    staff_roles,
    start_session,
)
from fairsite.audit.service import record
from fairsite.extensions import db, limiter
from fairsite.sql import write_transaction
from fairsite.web import after_write

bp = Blueprint("accounts", __name__)


def _login_key() -> str:
    return f"{request.remote_addr}|{normalise_login(request.form.get('login'))}"


def _account_key() -> str:
    return f"account|{normalise_login(request.form.get('login'))}"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], key_func=_login_key, methods=["POST"])
# Per login from every address: only failures count, so the owner's own log-ins never do.
@limiter.limit(lambda: current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"], key_func=_account_key,
               methods=["POST"], deduct_when=lambda response: response.status_code == 422)
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.login.data, form.password.data)
        if user is not None:
            target = safe_next(request.args.get("next")) or home_for(user)
            start_session(user)
            return redirect(target, code=303)
        form.password.errors.append(_("账号或密码不正确"))
    return render_template("accounts/login.html", form=form), (422 if form.errors else 200)


@bp.post("/logout")
@login_required
def logout():
    with write_transaction():
        user = db.session.get(User, current_user.id, populate_existing=True)
        # Every copy of this login's cookies ends here, not only this browser's.
        user.end_sessions()
    session.clear()
    logout_user()  # after clear(): it marks the remember-me cookie for deletion in the session
    flash(_("已退出登录"), "ok")
    return redirect(url_for("fairs.index"), code=303)


@bp.route("/account/password", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"],
               key_func=lambda: f"password|{request.remote_addr}", methods=["POST"])
@staff_roles(organiser=(ADMIN, DESK, VIEWER), employer=(ADMIN, BOOTH))
def password():
    """Change one's own password; the login's other sessions end, this one goes on."""
    form = PasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors.append(_("当前密码不正确"))
        else:
            new_hash = hash_password(form.password.data)  # before the write: it takes a while
            with write_transaction():
                user = db.session.get(User, current_user.id, populate_existing=True)
                user.password_hash = new_hash
                user.must_change_password = False
                user.end_sessions()
                record("account.password", "user", user.id)
            start_session(user)
            flash(_("密码已修改，其他设备上的登录已退出。"), "ok")
            return after_write(home_for(user))
    return render_template("accounts/password.html", form=form), (422 if form.errors else 200)
