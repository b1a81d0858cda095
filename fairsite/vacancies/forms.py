"""The vacancy form: every rule is checked on the server, field by field as the employer types
(inline validation) and all together on save."""
import re
import unicodedata
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

from fairsite.forms import Form
from fairsite.vacancies.models import CATEGORIES, EDUCATION

AGE_MIN, AGE_MAX = 16, 70
PAY_MIN, PAY_MAX = 500, 100_000


# A whole number as people type it: "4500", "4,500", "4500.00", "4.5k", "4千5", "1.2万",
# "¥4500元/月", "30人", "45岁", full-width digits; one sign allowed.
_AMOUNT = re.compile(
    r"(?P<sign>[-+]?)(?P<number>[0-9]{1,30}(?:\.[0-9]{1,4})?)"
    r"(?:(?P<unit>[kK千wW万])(?P<rest>[0-9])?)?"
)
_MULTIPLIERS = {"k": 1000, "千": 1000, "w": 10_000, "万": 10_000}
_UNIT = re.compile(r"(?:元|块|人|名|周岁|岁|rmb)?(?:/月|每月)?$", re.IGNORECASE)
_IGNORED = re.compile(r"[\s,_'\u200b-\u200f\u2060\ufeff]")


def parse_whole_number(raw: str | None) -> int | None:
    """The whole number `raw` writes, None when empty; ValueError when it is not one.
    Superscripts and circled numbers ("²", "①") are refused rather than read as digits."""
    raw = raw or ""
    if len(raw) > 60 or any(unicodedata.category(c) == "No" for c in raw):
        raise ValueError(raw[:60])
    text = "".join(
        str(unicodedata.decimal(c)) if c.isdecimal() else c
        for c in unicodedata.normalize("NFKC", raw)
    )
    text = _IGNORED.sub("", text)
    if text == "":
        return None
    text = _UNIT.sub("", text.removeprefix("¥").removeprefix("$"), count=1)
    match = _AMOUNT.fullmatch(text)
    if not match:
        raise ValueError(text)
    value = Decimal(match["number"])
    if match["unit"]:
        step = _MULTIPLIERS[match["unit"].lower()]
        value *= step
        if match["rest"]:
            # "4千5" is 4,500 and "1万2" 12,000: the digit after the unit is the next place.
            if "." in match["number"]:
                raise ValueError(text)
            value += int(match["rest"]) * step // 10
    if value != value.to_integral_value():
        raise ValueError(text)
    return -int(value) if match["sign"] == "-" else int(value)


class WholeNumberField(IntegerField):
    """An integer typed as people type it (see parse_whole_number), with the error in Chinese
    instead of WTForms' English "Not a valid integer value"."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        try:
            self.data = parse_whole_number(valuelist[0])
        except ValueError:
            self.data = None
            raise ValueError(_l("请填写整数，例如 4500")) from None

    def pre_validate(self, form) -> None:
        # "请填写整数" says it all; the range rules below would only repeat it.
        if self.process_errors:
            raise StopValidation()


class ChoiceField(SelectField):
    """A select whose value must be one of its choices (the fixed lists), error in Chinese."""

    def pre_validate(self, form) -> None:
        if self.data not in {value for value, _label in self.choices}:
            raise ValidationError(_l("请从列表中选择"))


class VacancyForm(Form):
    title = StringField(_l("岗位名称"), validators=[DataRequired(_l("请填写岗位名称")), Length(max=60, message=_l("最多 60 字"))])
    category = ChoiceField(_l("工种"), choices=list(CATEGORIES.items()), default="production")
    headcount = WholeNumberField(
        _l("招聘人数"), default=1,
        validators=[InputRequired(_l("请填写招聘人数")), NumberRange(min=1, max=9999, message=_l("招聘人数至少 1 人"))],
    )
    pay_min = WholeNumberField(
        _l("月薪下限（元）"),
        validators=[InputRequired(_l("请填写月薪下限")), NumberRange(min=PAY_MIN, max=PAY_MAX, message=_l("月薪应在 500–100,000 元之间"))],
    )
    pay_max = WholeNumberField(
        _l("月薪上限（元）"),
        validators=[InputRequired(_l("请填写月薪上限")), NumberRange(min=PAY_MIN, max=PAY_MAX, message=_l("月薪应在 500–100,000 元之间"))],
    )
    location = StringField(_l("工作地点"), validators=[Length(max=100)])
    shifts = StringField(_l("班次"), validators=[Length(max=40)], description=_l("如：长白班、两班倒"))
    age_min = WholeNumberField(
        _l("最低年龄"), validators=[Optional(), NumberRange(min=AGE_MIN, max=AGE_MAX, message=_l("年龄应在 16–70 岁之间"))]
    )
    age_max = WholeNumberField(
        _l("最高年龄"), validators=[Optional(), NumberRange(min=AGE_MIN, max=AGE_MAX, message=_l("年龄应在 16–70 岁之间"))]
    )
    education = ChoiceField(_l("学历要求"), choices=list(EDUCATION.items()), default="")
    meals_lodging = BooleanField(_l("包吃住"))
    social_insurance = BooleanField(_l("五险一金"))
    description = TextAreaField(_l("岗位说明"), validators=[Length(max=2000, message=_l("最多 2000 字"))])

    def validate_pay_max(self, field) -> None:
        if field.data is not None and self.pay_min.data is not None and self.pay_min.data > field.data:
            raise ValidationError(_l("月薪上限不能低于下限"))

    def validate_age_max(self, field) -> None:
        if field.data is not None and self.age_min.data is not None and self.age_min.data > field.data:
            raise ValidationError(_l("最高年龄不能低于最低年龄"))

    def field_errors(self, name: str) -> list[str]:
        """Validate everything, report one field: what inline validation shows beside it."""
        self.validate()
        field = self._fields.get(name)
        return [str(e) for e in field.errors] if field is not None else []
