"""Forms of live sessions: details (title, fair, time, stream link), and the organisers' list
of video platforms stream links may go to."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateTimeLocalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from fairsite.campaigns.forms import CampaignField
from fairsite.forms import Form, YearBetween
from fairsite.live.service import stream_host


def http_url(_form, field) -> None:
    """The stream's page on the video platform: an http(s) address, nothing else."""
    if not field.data:
        return
    try:
        parts = urlsplit(field.data)
        hostname = parts.hostname
    except ValueError:  # "http://[" (an unfinished IPv6 address) and the like
        parts, hostname = None, None
    if parts is None or parts.scheme not in ("http", "https") or not hostname or " " in field.data:
        raise ValidationError(_l("请填写以 http:// 或 https:// 开头的直播间链接"))


class LiveSessionForm(Form):
    title = StringField(_l("直播标题"), validators=[DataRequired(_l("请填写直播标题")), Length(max=120)])
    host_name = StringField(_l("主播"), validators=[Optional(), Length(max=60)])
    fair_id = SelectField(_l("所属招聘会（可不选）"), coerce=int, validate_choice=True)
    # Organisers only (the view removes it for employers): a session tied to no fair counts
    # in this campaign's return; one tied to a fair counts with the fair.
    campaign_id = CampaignField()
    scheduled_at = DateTimeLocalField(
        _l("开播时间（北京时间）"), format="%Y-%m-%dT%H:%M",
        validators=[Optional(), YearBetween()],
    )
    stream_url = StringField(
        _l("直播间链接"), validators=[Optional(), Length(max=500), http_url],
    )
    description = TextAreaField(_l("简介"), validators=[Optional(), Length(max=2000)])

    # The platforms on the organisers' list (live.service.allowed_hosts), set by the view.
    allowed_hosts: frozenset[str] = frozenset()

    def validate_stream_url(self, field) -> None:
        if not field.data:
            return
        host = stream_host(field.data)
        if host is None:
            raise ValidationError(_("直播间链接只能是 http:// 或 https:// 开头的普通网址，不能带账号、端口、空格或反斜杠"))
        if host not in self.allowed_hosts:
            raise ValidationError(_(
                "“%(host)s”不在主办方允许的直播平台名单上。可以使用：%(hosts)s",
                host=host, hosts="、".join(sorted(self.allowed_hosts)) or _("（名单为空，请联系主办方）"),
            ))


_HOST = re.compile(r"(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}")
MAX_HOSTS = 100


class PlatformsForm(Form):
    """The host names stream links may go to, one a line (a pasted link counts as its host)."""

    hosts = TextAreaField(_l("允许的直播平台域名（每行一个）"), validators=[Length(max=20000)])

    def validate_hosts(self, field) -> None:
        hosts = []
        for line in (field.data or "").splitlines():
            line = line.strip().lower()
            if not line:
                continue
            try:
                host = urlsplit(line).hostname if "://" in line else line
            except ValueError:  # e.g. an unclosed "[" of an IPv6 address
                host = None
            if not host or not _HOST.fullmatch(host):
                raise ValidationError(_("“%(line)s”不是域名。请每行填写一个域名，例如 live.douyin.com", line=line[:80]))
            hosts.append(host)
        if len(set(hosts)) > MAX_HOSTS:
            raise ValidationError(_("最多填写 %(n)s 个域名", n=MAX_HOSTS))
        self.host_list = list(dict.fromkeys(hosts))
