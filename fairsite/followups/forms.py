"""The bureau's follow-up note: one line saying what came of a call or visit."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from fairsite.followups.models import OUTCOME_MAX
from fairsite.forms import Form


class FollowUpForm(Form):
    outcome = StringField(
        _l("回访结果"),
        validators=[
            DataRequired(_l("请填写回访结果，例如：已电话联系，本人下周去面试。")),
            Length(max=OUTCOME_MAX, message=_l("回访结果最多 %(n)s 个字。", n=OUTCOME_MAX)),
        ],
        render_kw={"maxlength": OUTCOME_MAX, "autocomplete": "off",
                   "placeholder": _l("如：已电话联系，本人下周去面试")},
    )
