"""The staff log-in form and the password change."""
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from fairsite.forms import Form


class LoginForm(Form):
    login = StringField(_l("手机号或邮箱"), validators=[DataRequired(_l("请填写手机号或邮箱")), Length(max=120)])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请填写密码")), Length(max=200)])


class PasswordForm(Form):
    """A staff member changes their own password."""

    current = PasswordField(_l("当前密码"), validators=[DataRequired(_l("请填写当前密码")), Length(max=200)])
    password = PasswordField(_l("新密码（至少 8 位）"), validators=[
        DataRequired(_l("请填写新密码")),
        Length(min=8, max=200, message=_l("新密码至少 8 位")),
    ])
    confirm = PasswordField(_l("再次输入新密码"), validators=[
        DataRequired(_l("请再次输入新密码")), EqualTo("password", _l("两次输入的新密码不一致")),
    ])
