"""The staff log-in form."""
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from fairsite.forms import Form


class LoginForm(Form):
    login = StringField(_l("手机号或邮箱"), validators=[DataRequired(_l("请填写手机号或邮箱")), Length(max=120)])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请填写密码")), Length(max=200)])
