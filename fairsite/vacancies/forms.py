"""The vacancy form: every rule is checked on the server, field by field as the employer types
(inline validation) and all together on save."""
import unicodedata

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


class WholeNumberField(IntegerField):
    """An integer typed as people type it (full-width digits, "4,500", spaces), with the error
    in Chinese instead of WTForms' English "Not a valid integer value"."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = unicodedata.normalize("NFKC", valuelist[0] or "").replace(",", "").replace(" ", "").strip()
        if raw == "":
            self.data = None
            return
        try:
            self.data = int(raw)
        except ValueError:
            self.data = None
            raise ValueError(_l("请填写整数")) from None

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
