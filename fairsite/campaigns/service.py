"""Campaigns and their return (活动统计): every fair, live session and desk registration of a
campaign rolled up in the columns bureaus report upward — 场次, 参会企业, 提供岗位, 平均月薪,
进场人数, 达成意向 (people and intents), 现场签约, 录用, 到岗 — in total, by key group, by fair
(and live session not tied to a fair) and by source. Run once per request, so it counts the
rows themselves, with the day report's measures (fairsite.tallies.report.MEASURES).

What belongs to a campaign: its fairs (not drafts), and its live sessions; a session tied to a
fair counts with that fair (its intents carry the fair), one tied to none counts on its own."""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime

from flask import abort
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from sqlalchemy import false, or_, select, text

from fairsite.campaigns.models import Campaign
from fairsite.checkins.service import headcount
from fairsite.clock import local_time, utcnow
from fairsite.extensions import db
from fairsite.fairs.models import Fair
from fairsite.intents.models import KEY_GROUPS, SOURCES
from fairsite.live.models import LiveSession
from fairsite.tallies.board import offer
from fairsite.tallies.report import MEASURES, entered_by_groups


def all_campaigns() -> list[Campaign]:
    return list(db.session.scalars(select(Campaign).order_by(Campaign.year.desc(), Campaign.id.desc())))


def campaign_choices() -> list[tuple[int, str]]:
    """For the fair and live-session forms' campaign select: 0 is none."""
    return [(0, str(_l("（不属于任何活动）")))] + [(c.id, c.name) for c in all_campaigns()]


def get_campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def name_taken(name: str, except_id: int | None = None) -> bool:
    query = select(Campaign.id).where(Campaign.name == name)
    if except_id:
        query = query.where(Campaign.id != except_id)
    return db.session.scalar(query) is not None


@dataclass
class Line:
    """One row of the return. None where a column has no meaning for the row (e.g. 参会企业
    of a key group)."""

    label: str
    sessions: int | None = None  # 场次
    employers: int | None = None
    posts: int | None = None
    average_pay: int | None = None
    entered: int | None = None  # 进场人数 (人次: a person at two fairs counts at each)
    people: int = 0  # 达成意向（人）
    intents: int = 0  # 达成意向（条）
    signed: int = 0  # 现场签约（人）
    hired: int = 0  # 录用（人）
    onboard: int = 0  # 到岗（人）
    date: str = ""
    kind: str = ""

    def count(self, r) -> Line:
        self.people += r.people
        self.intents += r.intents
        self.signed += r.signed
        self.hired += r.hired
        self.onboard += r.onboard
        return self


@dataclass
class Return:
    campaign: Campaign
    generated_at: datetime
    total: Line
    fairs_held: int = 0
    live_sessions: int = 0
    walkins: int = 0
    entered_signed: int = 0  # of those who came, people who signed there in person
    groups: list[Line] = field(default_factory=list)
    by_fair: list[Line] = field(default_factory=list)
    sources: list[Line] = field(default_factory=list)

    @property
    def signed_share(self) -> int | None:
        entered = self.total.entered or 0
        return round(100 * self.entered_signed / entered) if entered else None


# The campaign's intents: at its fairs, or in its live sessions tied to no fair.
_SCOPE = (
    "FROM intents i {join} WHERE i.withdrawn_at IS NULL AND ("
    "i.fair_id IN (SELECT id FROM fairs WHERE campaign_id = :c AND status <> 'draft') "
    "OR (i.fair_id IS NULL AND i.live_session_id IN "
    "(SELECT id FROM live_sessions WHERE campaign_id = :c AND fair_id IS NULL)))"
)


def _measured(select_key: str, group_by: str, params: dict, join: str = "") -> list:
    return db.session.execute(text(
        f"SELECT {select_key} AS k, {MEASURES} {_SCOPE.format(join=join)} GROUP BY {group_by}"
    ), params).all()


def _live_offer(session_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """(employers, posts, pay total) of each live session's running order: headcounts and
    headcount × (pay_min + pay_max) of its open vacancies."""
    out: dict[int, tuple[int, int, int]] = {}
    if not session_ids:
        return out
    params = {f"s{n}": s for n, s in enumerate(session_ids)}
    for sid, employers, posts, pay in db.session.execute(text(
        "SELECT li.session_id, count(DISTINCT v.employer_id), coalesce(sum(v.headcount), 0), "
        "coalesce(sum(v.headcount * (v.pay_min + v.pay_max)), 0) FROM live_items li "
        "JOIN vacancies v ON v.id = li.vacancy_id WHERE v.is_open = :open AND li.session_id IN "
        f"({', '.join(':' + k for k in params)}) GROUP BY li.session_id"
    ), {**params, "open": True}):
        out[sid] = (int(employers), int(posts), int(pay))
    return out


def _distinct_employers(fair_ids: list[int], session_ids: list[int]) -> int:
    parts, params = [], {}
    if fair_ids:
        params.update({f"f{n}": f for n, f in enumerate(fair_ids)})
        parts.append("SELECT employer_id FROM booths WHERE status = 'approved' AND fair_id IN "
                     f"({', '.join(':f' + str(n) for n in range(len(fair_ids)))})")
    if session_ids:
        params.update({f"s{n}": s for n, s in enumerate(session_ids)})
        parts.append("SELECT v.employer_id FROM live_items li JOIN vacancies v ON v.id = li.vacancy_id "
                     f"WHERE li.session_id IN ({', '.join(':s' + str(n) for n in range(len(session_ids)))})")
    if not parts:
        return 0
    return db.session.execute(text(
        f"SELECT count(DISTINCT employer_id) FROM ({' UNION '.join(parts)}) AS e"
    ), params).scalar() or 0


def build(campaign: Campaign) -> Return:
    params = {"c": campaign.id}
    fairs = list(db.session.scalars(
        select(Fair).where(Fair.campaign_id == campaign.id, Fair.status != "draft")
        .order_by(Fair.date, Fair.id)
    ))
    fair_ids = [f.id for f in fairs]
    sessions = list(db.session.scalars(
        select(LiveSession).where(or_(
            (LiveSession.campaign_id == campaign.id) & LiveSession.fair_id.is_(None),
            LiveSession.fair_id.in_(fair_ids) if fair_ids else false(),
        )).order_by(LiveSession.scheduled_at, LiveSession.id)
    ))
    alone = [s for s in sessions if s.fair_id is None]

    by_fair_rows = {(r.k or 0): r for r in _measured(
        "i.fair_id", "i.fair_id", params)}
    by_live_rows = {r.k: r for r in _measured(
        "i.live_session_id", "i.live_session_id", params)} if alone else {}

    lines: list[Line] = []
    posts_total = pay_total = walkins = entered_total = entered_signed = 0
    for fair in fairs:
        employers, posts, average_pay = offer(fair.id)
        count = headcount(fair.id)
        line = Line(fair.title, 1, employers, posts, average_pay, count.total,
                    date=fair.date.strftime("%Y-%m-%d"), kind=_("招聘会"))
        if fair.id in by_fair_rows:
            line.count(by_fair_rows[fair.id])
        lines.append(line)
        posts_total += posts
        pay_total += average_pay * posts
        walkins += count.walkins
        entered_total += count.total
        entered_signed += count.signed
    live_offers = _live_offer([s.id for s in alone])
    for session in alone:
        employers, posts, pay = live_offers.get(session.id, (0, 0, 0))
        line = Line(session.title, 1, employers, posts, round(pay / 2 / posts) if posts else 0, None,
                    date=local_time(session.scheduled_at, "%Y-%m-%d") if session.scheduled_at else "",
                    kind=_("直播带岗"))
        if session.id in by_live_rows:
            line.count(by_live_rows[session.id])
        lines.append(line)
        posts_total += posts
        pay_total += pay / 2

    total_row = db.session.execute(text(f"SELECT {MEASURES} {_SCOPE.format(join='')}"), params).one()
    total = Line(_("合计"), len(fairs) + len(sessions),
                 _distinct_employers(fair_ids, [s.id for s in alone]), posts_total,
                 round(pay_total / posts_total) if posts_total else 0, entered_total).count(total_row)

    groups = {code: Line(str(label)) for code, label in KEY_GROUPS.items()}
    no_group = Line(_("未填写重点群体"))
    for r in _measured("a.groups", "a.groups", params, "JOIN attendees a ON a.id = i.attendee_id"):
        codes = [c for c in (r.k or "").split(",") if c in groups]
        for code in codes or [None]:
            (groups[code] if code else no_group).count(r)
    entered = entered_by_groups(
        "e.fair_id IN (SELECT id FROM fairs WHERE campaign_id = :c AND status <> 'draft')", params)
    for code, line in groups.items():
        line.entered = entered.get(code, 0)
    no_group.entered = entered.get("", 0)

    by_source = {r.k: r for r in _measured("i.source", "i.source", params)}
    sources = [Line(str(label)).count(by_source[code]) for code, label in SOURCES.items() if code in by_source]

    return Return(
        campaign=campaign, generated_at=utcnow(), total=total, fairs_held=len(fairs),
        live_sessions=len(sessions), walkins=walkins, entered_signed=entered_signed,
        groups=list(groups.values()) + ([no_group] if no_group.intents or no_group.entered else []),
        by_fair=lines, sources=sources,
    )


# --- the return as a spreadsheet ------------------------------------------------------------

COLUMNS = (
    ("sessions", _l("场次")), ("employers", _l("参会企业（家）")), ("posts", _l("提供岗位（个）")),
    ("average_pay", _l("平均月薪（元）")), ("entered", _l("进场人数（人次）")),
    ("people", _l("达成意向（人）")), ("intents", _l("达成意向（条）")),
    ("signed", _l("现场签约（人）")), ("hired", _l("录用（人）")), ("onboard", _l("到岗（人）")),
)


def to_xlsx(report: Return) -> io.BytesIO:
    """The return laid out as bureaus file it: a title, who and when, one table with the total,
    the key groups and the sources, then a sheet of every fair and session. Streamed
    (write_only): memory stays flat however many fairs a campaign has."""
    wb = Workbook(write_only=True)
    bold, title_font = Font(bold=True), Font(bold=True, size=14)
    head_fill = PatternFill("solid", fgColor="E6F0FA")
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)

    def cell(ws, value, font=None, fill=None, align=None):
        c = WriteOnlyCell(ws, value=value)
        if font:
            c.font = font
        if fill:
            c.fill = fill
        if align:
            c.alignment = align
        return c

    def heading(ws, first: list[str]):
        ws.append([cell(ws, str(h), bold, head_fill, centre) for h in first + [str(label) for _k, label in COLUMNS]])

    def values(line: Line) -> list:
        return [getattr(line, key) if getattr(line, key) is not None else "—" for key, _label in COLUMNS]

    campaign = report.campaign
    ws = wb.create_sheet(_("统计表"))
    for width, column in zip((24, 8, 14, 14, 14, 16, 14, 14, 14, 12, 12), "ABCDEFGHIJK", strict=True):
        ws.column_dimensions[column].width = width
    ws.append([cell(ws, _("%(name)s 招聘活动统计表", name=campaign.name), title_font)])
    ws.append([_("活动期间"), campaign.period])
    ws.append([_("填报单位"), _("区人力资源和社会保障局")])
    ws.append([_("统计时间"), local_time(report.generated_at)])
    ws.append([_("场次构成"), _("招聘会 %(f)s 场，直播带岗 %(l)s 场", f=report.fairs_held, l=report.live_sessions)])
    ws.append([])
    heading(ws, [_("项目")])
    ws.append([cell(ws, report.total.label, bold)] + [cell(ws, v, bold) for v in values(report.total)])
    ws.append([cell(ws, _("按重点群体"), bold)])
    for line in report.groups:
        ws.append(["  " + line.label] + values(line))
    ws.append([cell(ws, _("按登记来源"), bold)])
    for line in report.sources:
        ws.append(["  " + line.label] + values(line))
    ws.append([])
    ws.append([_("说明：进场人数按场次累计（一人到两场计两人次），含服务台计数 %(n)s 人；一人可属多个重点群体；"
                 "录用含现场签约、已到岗和未到岗；撤回的意向不计入。", n=report.walkins)])

    detail = wb.create_sheet(_("分场次"))
    for width, column in zip((34, 12, 12, 8, 14, 14, 14, 16, 14, 14, 14, 12, 12), "ABCDEFGHIJKLM", strict=True):
        detail.column_dimensions[column].width = width
    heading(detail, [_("场次名称"), _("日期"), _("形式")])
    for line in report.by_fair:
        detail.append([line.label, line.date, line.kind] + values(line))
    detail.append([cell(detail, report.total.label, bold), "", ""] + [cell(detail, v, bold) for v in values(report.total)])

    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out
