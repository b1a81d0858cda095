"""The attendee's one short form: name, mobile number, key groups, consent."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from fairsite.forms import Form
from fairsite.intents.models import KEY_GROUPS
from fairsite.phones import normalise_phone


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form) -> None:
        # Unknown codes are dropped (validate_groups) rather than refused: nobody can fix a
        # checkbox they cannot see.
        return None


class AttendeeForm(Form):
    name = StringField(
        _l("姓名"),
        validators=[DataRequired(_l("请填写您的姓名。")), Length(max=40, message=_l("姓名最多 40 个字。"))],
        render_kw={"autocomplete": "name", "maxlength": 40},
    )
    phone = StringField(
        _l("手机号"),
        validators=[DataRequired(_l("请填写手机号。"))],
        render_kw={"type": "tel", "inputmode": "tel", "autocomplete": "tel", "maxlength": 30},
    )
    groups = MultiCheckboxField(_l("以下情况（可不选）"), choices=list(KEY_GROUPS.items()))
    consent = BooleanField(
        _l("我已阅读上面的说明，同意登记"),
        validators=[DataRequired(_l("请勾选同意，才能登记。"))],
    )
    # A separate consent, unticked unless the person ticks it (PIPL): vacancy pushes by text.
    push = BooleanField(_l("愿意接收岗位推送短信（可随时退订）"), default=False)

    #: The normalised 11-digit number, set by validation.
    normalised_phone: str | None = None

    def validate_phone(self, field) -> None:
        self.normalised_phone = normalise_phone(field.data or "")
        if self.normalised_phone is None:
            raise ValidationError(_l("手机号不正确：请填写 11 位手机号，例如 138 0013 8000。"))

    def validate_groups(self, field) -> None:
        # Each known code once, in the list's order: a code sent 200 times counts once.
        chosen = set(field.data or [])
        field.data = [g for g in KEY_GROUPS if g in chosen]


class DeskForm(AttendeeForm):
    name = StringField(
        _l("姓名"),
        validators=[DataRequired(_l("请填写姓名。")), Length(max=40, message=_l("姓名最多 40 个字。"))],
        render_kw={"autocomplete": "off", "maxlength": 40},
    )
    consent = BooleanField(
        _l("已向本人读明登记说明（信息只提供给所选企业，用于联系招聘），本人口头同意"),
        validators=[DataRequired(_l("请先向本人说明并取得口头同意，再勾选。"))],
    )
