"""The employer's profile form and the form that adds a second staff login."""
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from fairsite.accounts.forms import EmployerFields, no_control_chars
from fairsite.forms import Form


class ProfileForm(Form):
    name = StringField(_l("企业名称"), validators=[DataRequired(_l("请填写企业名称")), Length(max=100), no_control_chars])
    credit_code = StringField(_l("统一社会信用代码"), validators=[DataRequired(_l("请填写统一社会信用代码"))])
    industry = StringField(_l("所属行业"), validators=[Length(max=40), no_control_chars])
    contact_name = StringField(_l("联系人"), validators=[DataRequired(_l("请填写联系人")), Length(max=40), no_control_chars])
    contact_phone = StringField(_l("联系电话（手机）"), validators=[DataRequired(_l("请填写联系电话"))])
    address = StringField(_l("地址"), validators=[Length(max=200), no_control_chars])
    description = TextAreaField(_l("企业简介"), validators=[Length(max=2000, message=_l("简介最多 2000 字"))])

    validate_credit_code = EmployerFields.validate_credit_code
    validate_contact_phone = EmployerFields.validate_contact_phone


class StaffForm(Form):
    name = StringField(_l("姓名"), validators=[DataRequired(_l("请填写姓名")), Length(max=60), no_control_chars])
    login = StringField(_l("登录手机号或邮箱"), validators=[DataRequired(_l("请填写登录账号")), Length(max=120), no_control_chars])
    password = PasswordField(
        _l("初始密码（至少 8 位）"),
        validators=[DataRequired(_l("请设置初始密码")), Length(min=8, max=200, message=_l("密码至少 8 位"))],
    )
