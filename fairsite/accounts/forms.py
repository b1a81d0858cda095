"""Log-in and employer registration forms."""
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from fairsite.employers.credit_code import normalise_credit_code
from fairsite.forms import Form
from fairsite.phones import normalise_phone

INDUSTRIES = [
    "电子制造", "机械制造", "纺织服装", "食品加工", "建筑建材", "物流运输", "批发零售",
    "餐饮住宿", "家政服务", "医疗护理", "信息技术", "农业养殖", "汽车配件", "新能源", "其他",
]


class LoginForm(Form):
    login = StringField(_l("手机号或邮箱"), validators=[DataRequired(_l("请填写手机号或邮箱")), Length(max=120)])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请填写密码")), Length(max=200)])


def no_control_chars(_form, field) -> None:
    if field.data and any(ord(c) < 32 or 0x202A <= ord(c) <= 0x202E for c in field.data):
        raise ValidationError(_l("含有不能使用的字符"))


class EmployerFields:
    """Validators shared by registration and the employer profile form."""

    @staticmethod
    def validate_credit_code(_form, field) -> None:
        code = normalise_credit_code(field.data)
        if code is None:
            raise ValidationError(_l("统一社会信用代码应为 18 位，且校验位正确，请核对营业执照"))
        field.data = code

    @staticmethod
    def validate_contact_phone(_form, field) -> None:
        phone = normalise_phone(field.data)
        if phone is None:
            raise ValidationError(_l("请填写正确的 11 位手机号"))
        field.data = phone


class RegisterForm(Form):
    name = StringField(_l("企业名称"), validators=[DataRequired(_l("请填写企业名称")), Length(max=100), no_control_chars])
    credit_code = StringField(_l("统一社会信用代码"), validators=[DataRequired(_l("请填写统一社会信用代码"))])
    industry = StringField(_l("所属行业"), validators=[Length(max=40), no_control_chars])
    contact_name = StringField(_l("联系人"), validators=[DataRequired(_l("请填写联系人")), Length(max=40), no_control_chars])
    contact_phone = StringField(_l("联系电话（手机）"), validators=[DataRequired(_l("请填写联系电话"))])
    login = StringField(_l("登录手机号或邮箱"), validators=[DataRequired(_l("请填写登录账号")), Length(max=120), no_control_chars])
    password = PasswordField(_l("密码（至少 8 位）"), validators=[DataRequired(_l("请设置密码")), Length(min=8, max=200, message=_l("密码至少 8 位"))])
    confirm = PasswordField(_l("再次输入密码"), validators=[EqualTo("password", _l("两次输入的密码不一致"))])

    validate_credit_code = EmployerFields.validate_credit_code
    validate_contact_phone = EmployerFields.validate_contact_phone
