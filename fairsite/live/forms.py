"""Forms of live sessions: details (title, fair, time, stream link) and the running order."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from wtforms import DateTimeLocalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from fairsite.forms import Form


def http_url(_form, field) -> None:
    """The stream's page on the video platform: an http(s) address, nothing else."""
    if not field.data:
        return
    parts = urlsplit(field.data)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in field.data:
        raise ValidationError(_l("请填写以 http:// 或 https:// 开头的直播间链接"))


class LiveSessionForm(Form):
    title = StringField(_l("直播标题"), validators=[DataRequired(_l("请填写直播标题")), Length(max=120)])
    host_name = StringField(_l("主播"), validators=[Optional(), Length(max=60)])
    fair_id = SelectField(_l("所属招聘会（可不选）"), coerce=int, validate_choice=True)
    scheduled_at = DateTimeLocalField(
        _l("开播时间（北京时间）"), format="%Y-%m-%dT%H:%M",
        validators=[Optional()],
    )
    stream_url = StringField(
        _l("直播间链接"), validators=[Optional(), Length(max=500), http_url],
    )
    description = TextAreaField(_l("简介"), validators=[Optional(), Length(max=2000)])
