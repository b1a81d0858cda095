"""Organisers' fair form: what a fair is called, what kind, where and when."""
from __future__ import annotations

import re
import unicodedata

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from fairsite.campaigns.forms import CampaignField
from fairsite.fairs.models import KIND_LABELS
from fairsite.forms import Form, YearBetween, clean_text


class ChineseDateField(DateField):
    def __init__(self, *args, **kw):
        kw.setdefault("invalid_value_message", _l("日期格式不正确，例如 2026-03-03"))
        super().__init__(*args, **kw)


class ChineseTimeField(TimeField):
    def __init__(self, *args, **kw):
        kw.setdefault("invalid_value_message", _l("时间格式不正确，例如 08:30"))
        super().__init__(*args, **kw)


# The organisers' phone for attendees: a landline with its area code (0571-88886666, an
# extension after 转), a mobile (13800138000) or a service number (12333, 96xxx).
_CONTACT_PHONE = re.compile(r"(0[0-9]{9,11}(转[0-9]{1,6})?|1[3-9][0-9]{9}|1[0-9]{4}|9[0-9]{4,5})")
_PHONE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212()（）]+")


def contact_phone(raw):
    """What was typed, in one form: control characters dropped (as every form does), full-width
    digits folded (NFKC), separators dropped, then a landline's area code set off by "-"
    (010 and 02x have three digits, the others four)."""
    if not isinstance(raw, str):
        return raw
    text = _PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", clean_text(raw)))
    if _CONTACT_PHONE.fullmatch(text) and text.startswith("0"):
        cut = 3 if text[1] in "12" else 4
        text = f"{text[:cut]}-{text[cut:]}"
    return text


def valid_contact_phone(_form, field) -> None:
    if field.data and not _CONTACT_PHONE.fullmatch(field.data.replace("-", "", 1)):
        raise ValidationError(_l("电话号码不正确，请填写区号和号码，例如 0571-88886666、13800138000 或 12333"))


class FairForm(Form):
    title = StringField(
        _l("招聘会名称"), validators=[DataRequired(_l("请填写招聘会名称")), Length(max=120, message=_l("名称最多 120 个字"))]
    )
    kind = SelectField(_l("类型"), choices=list(KIND_LABELS.items()), default="park")
    campaign = StringField(
        _l("活动标签"), validators=[Length(max=60, message=_l("活动标签最多 60 个字"))],
        description=_l("例如：春风行动、就业援助月、民营企业招聘周"),
    )
    campaign_id = CampaignField()
    venue = StringField(_l("地点"), validators=[Length(max=200, message=_l("地点最多 200 个字"))])
    contact_phone = StringField(
        _l("咨询电话"), filters=[contact_phone],
        validators=[Length(max=20, message=_l("电话号码最多 20 位")), valid_contact_phone],
        description=_l("印在代登记回执上，求职者有问题打这个电话，例如 0571-88886666"),
    )
    date = ChineseDateField(_l("日期"), validators=[InputRequired(_l("请选择日期")), YearBetween()])
    opens_at = ChineseTimeField(_l("开始时间"), validators=[Optional()])
    closes_at = ChineseTimeField(_l("结束时间"), validators=[Optional()])
    description = TextAreaField(_l("介绍"), validators=[Length(max=5000, message=_l("介绍最多 5000 个字"))])
    verify_phone = BooleanField(
        _l("第一次登记要短信验证码"),
        description=_l("勾选后，一个手机号在本场第一次登记前要输入短信验证码，防止别人冒用号码登记（每条验证码计入短信预算）"),
    )

    def validate_closes_at(self, field) -> None:
        if field.data and self.opens_at.data and field.data <= self.opens_at.data:
            raise ValidationError(_l("结束时间应晚于开始时间"))
