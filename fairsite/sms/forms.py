"""The interview invitation and daily digest forms (employer), the monthly budget and the
vacancy push forms (organiser)."""
from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectField, StringField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from fairsite.clock import CST, utcnow
from fairsite.forms import Form, YearBetween
from fairsite.intents.forms import MultiCheckboxField
from fairsite.intents.models import KEY_GROUPS
from fairsite.numbers import parse_number
from fairsite.phones import normalise_phone
from fairsite.vacancies.models import CATEGORIES


class InviteForm(Form):
    on_date = DateField(_l("面试日期"), validators=[
        InputRequired(_l("请选择面试日期。")), YearBetween()],
        render_kw={"type": "date"})
    at_time = TimeField(_l("面试时间"), validators=[InputRequired(_l("请选择面试时间。"))],
                        render_kw={"type": "time"})
    place = StringField(_l("面试地点"), validators=[
        DataRequired(_l("请填写面试地点。")), Length(max=30, message=_l("地点最多 30 个字。"))],
        render_kw={"maxlength": 30, "placeholder": _l("如：高新区创业路 8 号三楼人事部")})
    contact = StringField(_l("联系人和电话"), validators=[
        DataRequired(_l("请填写联系人和电话。")), Length(max=30, message=_l("最多 30 个字。"))],
        render_kw={"maxlength": 30, "placeholder": _l("如：王经理 0833-1234567")})

    def validate_on_date(self, field) -> None:
        if field.data is None:
            return
        today = (utcnow() + CST).date()
        if field.data < today:
            raise ValidationError(_l("面试日期不能早于今天。"))
        if field.data > today + timedelta(days=90):
            raise ValidationError(_l("面试日期请选在 90 天以内。"))


class BudgetForm(Form):
    messages = StringField(_l("本月预算（条）"), validators=[
        DataRequired(_l("请填写本月预算条数。"))],
        render_kw={"inputmode": "numeric", "maxlength": 9, "autocomplete": "off"})

    def validate_messages(self, field) -> None:
        # ASCII digits only, bounded (fairsite/numbers.py): int() would take "١٢" and "1_000".
        if parse_number(field.data, 0, MAX_BUDGET) is None:
            raise ValidationError(_l("请填写 0 到 10000000 之间的整数。"))

    @property
    def value(self) -> int:
        return parse_number(self.messages.data, 0, MAX_BUDGET) or 0


MAX_BUDGET = 10_000_000


class DigestForm(Form):
    active = BooleanField(_l("每天傍晚用短信告诉我：今天多少人登记、多少人待联系"))
    phone = StringField(_l("接收短信的手机号"), render_kw={
        "type": "tel", "inputmode": "tel", "autocomplete": "tel", "maxlength": 30})

    def validate_phone(self, field) -> None:
        # Switching the digest off needs no number.
        if self.active.data and normalise_phone(field.data) is None:
            raise ValidationError(_l("请填写正确的 11 位手机号。"))

    @property
    def normalised_phone(self) -> str:
        return normalise_phone(self.phone.data) or ""


class PushForm(Form):
    """The organiser's vacancy push (精准推送): what to announce and to whom. The choices are
    set by the view from what may be announced now."""

    # Choices are checked below, in Chinese (WTForms' own check says "Not a valid choice").
    target = SelectField(_l("推送什么"), validate_choice=False,
                         validators=[DataRequired(_l("请选择要推送的招聘会或直播。"))])
    groups = MultiCheckboxField(_l("重点群体（可多选；不选即不限）"), choices=list(KEY_GROUPS.items()))
    categories = MultiCheckboxField(_l("以前登记过的岗位类别（可多选；不选即不限）"),
                                    choices=list(CATEGORIES.items()))
    earlier_fair = SelectField(_l("以前参加过的招聘会（不选即不限）"), choices=[("", "")], default="",
                               validate_choice=False)

    def validate_target(self, field) -> None:
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError(_l("请选择要推送的招聘会或直播。"))

    def validate_earlier_fair(self, field) -> None:
        if field.data and field.data not in {value for value, _label in field.choices}:
            raise ValidationError(_l("请从列表里选择招聘会。"))

    def validate_groups(self, field) -> None:
        chosen = set(field.data or [])
        field.data = [g for g in KEY_GROUPS if g in chosen]

    def validate_categories(self, field) -> None:
        chosen = set(field.data or [])
        field.data = [c for c in CATEGORIES if c in chosen]
