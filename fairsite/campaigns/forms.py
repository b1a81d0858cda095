"""The organiser's campaign form (the fair and live-session forms choose a campaign with
fairsite.campaigns.service.campaign_choices)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from fairsite.campaigns.service import campaign_choices
from fairsite.forms import Form, YearBetween
from fairsite.numbers import parse_id


def _campaign_id(value) -> int:
    """The select's value as an id: 0 for none, -1 for anything that is no id (refused)."""
    if isinstance(value, int):
        return value
    if value in (None, "", "0"):
        return 0
    return parse_id(value) or -1


LABEL = _l("所属活动（用于活动统计）")


class CampaignField(SelectField):
    """The campaign a fair or live session belongs to (0: none), for the fair and live-session
    forms. Its choices are read when the form is built."""

    def __init__(self, label=LABEL, **kw):
        super().__init__(label, coerce=_campaign_id, choices=campaign_choices, default=0, **kw)

    def process_data(self, value) -> None:
        # A fair or session of no campaign (None) is 0, the "none" choice; a form sent without
        # the field keeps what the object has.
        self.data = _campaign_id(value)

    def pre_validate(self, form) -> None:
        if self.data not in {value for value, _label in self.choices}:
            raise ValidationError(_l("请从列表中选择活动"))


class ChineseDateField(DateField):
    def __init__(self, *args, **kw):
        kw.setdefault("invalid_value_message", _l("日期格式不正确，例如 2026-03-03"))
        super().__init__(*args, **kw)


class CampaignForm(Form):
    name = StringField(
        _l("活动名称"),
        validators=[DataRequired(_l("请填写活动名称")), Length(max=60, message=_l("活动名称最多 60 个字"))],
        description=_l("例如：2026 春风行动、就业援助月"),
    )
    year = IntegerField(
        _l("年度"),
        validators=[InputRequired(_l("请填写年度，例如 2026")),
                    NumberRange(2000, 2100, message=_l("年度应在 2000 至 2100 之间"))],
    )
    starts_on = ChineseDateField(_l("开始日期"), validators=[Optional(), YearBetween()])
    ends_on = ChineseDateField(_l("结束日期"), validators=[Optional(), YearBetween()])
    description = TextAreaField(_l("说明"), validators=[Length(max=2000, message=_l("说明最多 2000 个字"))])

    def validate_year(self, field) -> None:
        # int() accepts "２０２６" and "2_026": only ASCII digits, as every number the site reads.
        raw = (field.raw_data or [""])[0]
        if not (isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit()):
            raise ValidationError(_l("年度应为 4 位数字，例如 2026"))

    def validate_ends_on(self, field) -> None:
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("结束日期不能早于开始日期"))

