"""Organisers' fair form: what a fair is called, what kind, where and when."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from fairsite.fairs.models import KIND_LABELS
from fairsite.forms import Form, YearBetween


class ChineseDateField(DateField):
    def __init__(self, *args, **kw):
        kw.setdefault("invalid_value_message", _l("日期格式不正确，例如 2026-03-03"))
        super().__init__(*args, **kw)


class ChineseTimeField(TimeField):
    def __init__(self, *args, **kw):
        kw.setdefault("invalid_value_message", _l("时间格式不正确，例如 08:30"))
        super().__init__(*args, **kw)


class FairForm(Form):
    title = StringField(
        _l("招聘会名称"), validators=[DataRequired(_l("请填写招聘会名称")), Length(max=120, message=_l("名称最多 120 个字"))]
    )
    kind = SelectField(_l("类型"), choices=list(KIND_LABELS.items()), default="park")
    campaign = StringField(
        _l("活动标签"), validators=[Length(max=60, message=_l("活动标签最多 60 个字"))],
        description=_l("例如：春风行动、就业援助月、民营企业招聘周"),
    )
    venue = StringField(_l("地点"), validators=[Length(max=200, message=_l("地点最多 200 个字"))])
    date = ChineseDateField(_l("日期"), validators=[InputRequired(_l("请选择日期")), YearBetween()])
    opens_at = ChineseTimeField(_l("开始时间"), validators=[Optional()])
    closes_at = ChineseTimeField(_l("结束时间"), validators=[Optional()])
    description = TextAreaField(_l("介绍"), validators=[Length(max=5000, message=_l("介绍最多 5000 个字"))])

    def validate_closes_at(self, field) -> None:
        if field.data and self.opens_at.data and field.data <= self.opens_at.data:
            raise ValidationError(_l("结束时间应晚于开始时间"))
