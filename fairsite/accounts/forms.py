"""The staff log-in form, the password change, and the organiser admin's staff forms."""
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from fairsite.accounts.service import normalise_login
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


class InviteForm(Form):
    """An organiser admin adds a colleague: the site makes the first password, shows it once,
    and the colleague chooses their own at the first login."""

    name = StringField(_l("姓名"), validators=[DataRequired(_l("请填写姓名")), Length(max=60)])
    login = StringField(_l("登录手机号或邮箱"), validators=[DataRequired(_l("请填写登录账号")), Length(max=120)])
    staff_role = SelectField(_l("角色"), default="desk", validators=[DataRequired(_l("请选择一个角色"))],
                             validate_choice=True)

    def validate_login(self, field) -> None:
        if not normalise_login(field.data):
            raise ValidationError(_l("请填写登录账号"))


class RoleForm(Form):
    """Change a colleague's role (one select and a button per row)."""

    staff_role = SelectField(_l("角色"), validators=[DataRequired(_l("请选择一个角色"))],
                             validate_choice=True)
