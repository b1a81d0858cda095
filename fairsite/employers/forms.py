"""Employer forms: self-registration, the profile, and a second staff login. Registration and
the profile share the firm's fields and their checks (credit code checksum, mobile number)."""
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from fairsite.employers.credit_code import normalise_credit_code
from fairsite.forms import Form
from fairsite.phones import normalise_phone

INDUSTRIES = [
    "电子制造", "机械制造", "纺织服装", "食品加工", "建筑建材", "物流运输", "批发零售",
    "餐饮住宿", "家政服务", "医疗护理", "信息技术", "农业养殖", "汽车配件", "新能源", "其他",
]


def _password(label):
    return PasswordField(
        label, validators=[DataRequired(_l("请设置密码")), Length(min=8, max=200, message=_l("密码至少 8 位"))]
    )


def _login_field():
    return StringField(_l("登录手机号或邮箱"), validators=[DataRequired(_l("请填写登录账号")), Length(max=120)])


class EmployerFields(Form):
    """The firm's fields, as registration and the profile ask them."""

    name = StringField(_l("企业名称"), validators=[DataRequired(_l("请填写企业名称")), Length(max=100)])
    credit_code = StringField(_l("统一社会信用代码"), validators=[DataRequired(_l("请填写统一社会信用代码"))])
    industry = StringField(_l("所属行业"), validators=[Length(max=40)])
    contact_name = StringField(_l("联系人"), validators=[DataRequired(_l("请填写联系人")), Length(max=40)])
    contact_phone = StringField(_l("联系电话（手机）"), validators=[DataRequired(_l("请填写联系电话"))])

    def validate_credit_code(self, field) -> None:
        code = normalise_credit_code(field.data)
        if code is None:
            raise ValidationError(_l("统一社会信用代码应为 18 位，且校验位正确，请核对营业执照"))
        field.data = code

    def validate_contact_phone(self, field) -> None:
        phone = normalise_phone(field.data)
        if phone is None:
            raise ValidationError(_l("请填写正确的 11 位手机号"))
        field.data = phone


class RegisterForm(EmployerFields):
    login = _login_field()
    password = _password(_l("密码（至少 8 位）"))
    confirm = PasswordField(_l("再次输入密码"), validators=[EqualTo("password", _l("两次输入的密码不一致"))])


class ProfileForm(EmployerFields):
    address = StringField(_l("地址"), validators=[Length(max=200)])
    description = TextAreaField(_l("企业简介"), validators=[Length(max=2000, message=_l("简介最多 2000 字"))])


class StaffForm(Form):
    name = StringField(_l("姓名"), validators=[DataRequired(_l("请填写姓名")), Length(max=60)])
    login = _login_field()
    password = _password(_l("初始密码（至少 8 位）"))
    # Choices: fairsite.accounts.models.STAFF_ROLES (set by the view). Left out, the colleague
    # is booth staff: the smaller role.
    staff_role = SelectField(_l("角色"), default="booth", validators=[DataRequired(_l("请选择一个角色"))],
                             validate_choice=True)
