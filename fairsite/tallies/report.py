"""The day's report that bureaus send upward: the fair's offer, 进场人数, attendees and intents
in total and by key group, source and hour, and the follow-up employers recorded (contacted,
interviewed, 现场签约, 录用, 到岗). Run once, so it counts the intents themselves with GROUP BY;
withdrawn intents are left out. The campaign return (fairsite.campaigns.service) counts with
the same MEASURES."""
from __future__ import annotations

import io
from dataclasses import dataclass, field

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import text

from fairsite.checkins.service import Headcount, headcount
from fairsite.clock import local_time, utcnow
from fairsite.extensions import db
from fairsite.fairs.models import Fair
from fairsite.intents.models import (
    AGREED_STATUSES,
    CONTACTED_STATUSES,
    INTERVIEWED_STATUSES,
    KEY_GROUPS,
    SOURCES,
)
from fairsite.tallies.board import offer

# Follow-up reached, by intent status (intents.models): a hired intent was also contacted and
# interviewed. "已录用" counts every agreement: signed on site, hired, at work, or not turned up.
CONTACTED = CONTACTED_STATUSES
INTERVIEWED = INTERVIEWED_STATUSES
HIRED = AGREED_STATUSES
SIGNED = ("signed",)  # 现场签约
ONBOARD = ("onboard",)  # 到岗


@dataclass
class Row:
    label: str
    people: int = 0
    intents: int = 0
    contacted: int = 0
    interviewed: int = 0
    hired: int = 0
    signed: int = 0
    onboard: int = 0
    # 进场人数 of the row where it has one (in total, by key group); None elsewhere.
    entered: int | None = None

    def add(self, other: Row) -> None:
        self.people += other.people
        self.intents += other.intents
        self.contacted += other.contacted
        self.interviewed += other.interviewed
        self.hired += other.hired
        self.signed += other.signed
        self.onboard += other.onboard


@dataclass
class Report:
    fair: Fair
    generated_at: object
    employers: int
    posts: int
    average_pay: int
    total: Row
    groups: list[Row] = field(default_factory=list)
    no_group: Row | None = None
    sources: list[Row] = field(default_factory=list)
    hours: list[Row] = field(default_factory=list)
    employer_rows: list[tuple[str, Row]] = field(default_factory=list)  # booth number, row
    headcount: Headcount = field(default_factory=lambda: Headcount(0, 0, 0))


def _in(values) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


# People counted once per row, whichever of their intents reached the stage.
_MEASURES = (
    "count(DISTINCT i.attendee_id) AS people, count(*) AS intents, "
    f"count(DISTINCT CASE WHEN i.status IN {_in(CONTACTED)} THEN i.attendee_id END) AS contacted, "
    f"count(DISTINCT CASE WHEN i.status IN {_in(INTERVIEWED)} THEN i.attendee_id END) AS interviewed, "
    f"count(DISTINCT CASE WHEN i.status IN {_in(HIRED)} THEN i.attendee_id END) AS hired, "
    f"count(DISTINCT CASE WHEN i.status IN {_in(SIGNED)} THEN i.attendee_id END) AS signed, "
    f"count(DISTINCT CASE WHEN i.status IN {_in(ONBOARD)} THEN i.attendee_id END) AS onboard"
)
MEASURES = _MEASURES
_WHERE = "FROM intents i {join} WHERE i.fair_id = :fair AND i.withdrawn_at IS NULL"


def _rows(fair_id: int, select_key: str, group_by: str, join: str = "") -> list:
    sql = f"SELECT {select_key} AS k, {_MEASURES} {_WHERE.format(join=join)} GROUP BY {group_by}"
    return db.session.execute(text(sql), {"fair": fair_id}).all()


def _local_hour_sql() -> str:
    if db.engine.dialect.name == "postgresql":
        return "CAST(EXTRACT(HOUR FROM i.created_at + INTERVAL '8 hours') AS INTEGER)"
    return "CAST(strftime('%H', i.created_at, '+8 hours') AS INTEGER)"


def _row(label: str, r) -> Row:
    return Row(label, r.people, r.intents, r.contacted, r.interviewed, r.hired, r.signed, r.onboard)


def entered_by_groups(where: str, params: dict) -> dict[str, int]:
    """进场人数 (person × fair) by key group code, from fair_entries e filtered by `where`;
    "" for people of no group."""
    out: dict[str, int] = {}
    for groups, n in db.session.execute(text(
        "SELECT a.groups, count(*) FROM fair_entries e JOIN attendees a ON a.id = e.attendee_id "
        f"WHERE {where} GROUP BY a.groups"
    ), params):
        codes = [c for c in (groups or "").split(",") if c in KEY_GROUPS] or [""]
        for code in codes:
            out[code] = out.get(code, 0) + n
    return out


def build(fair: Fair) -> Report:
    params = {"fair": fair.id}
    employers, posts, average_pay = offer(fair.id)

    total_row = db.session.execute(text(f"SELECT {_MEASURES} {_WHERE.format(join='')}"), params).one()
    total = _row(_("合计"), total_row)
    count = headcount(fair.id)
    total.entered = count.total

    # Each person has one set of groups, so summing people over the sets is exact per group.
    groups = {code: Row(str(label)) for code, label in KEY_GROUPS.items()}
    no_group = Row(_("未填写重点群体"))
    for r in _rows(fair.id, "a.groups", "a.groups", "JOIN attendees a ON a.id = i.attendee_id"):
        codes = [c for c in (r.k or "").split(",") if c in groups]
        for code in codes:
            groups[code].add(_row("", r))
        if not codes:
            no_group.add(_row("", r))
    entered = entered_by_groups("e.fair_id = :fair", params)
    for code, row in groups.items():
        row.entered = entered.get(code, 0)
    no_group.entered = entered.get("", 0)

    by_source = {r.k: r for r in _rows(fair.id, "i.source", "i.source")}
    sources = [_row(str(label), by_source[code]) for code, label in SOURCES.items() if code in by_source]

    hour_sql = _local_hour_sql()
    hours = [_row(f"{r.k:02d}:00–{r.k:02d}:59", r) for r in sorted(_rows(fair.id, hour_sql, hour_sql), key=lambda r: r.k)]

    employer_rows = []
    for r in db.session.execute(text(
        f"SELECT e.name AS name, b.number AS number, {_MEASURES} "
        "FROM intents i JOIN employers e ON e.id = i.employer_id "
        "LEFT JOIN booths b ON b.employer_id = i.employer_id AND b.fair_id = i.fair_id "
        "WHERE i.fair_id = :fair AND i.withdrawn_at IS NULL "
        "GROUP BY e.id, e.name, b.number ORDER BY count(*) DESC, e.name"
    ), params):
        employer_rows.append((r.number or "", _row(r.name, r)))

    return Report(
        fair=fair, generated_at=utcnow(), employers=employers, posts=posts,
        average_pay=average_pay, total=total, groups=list(groups.values()), no_group=no_group,
        sources=sources, hours=hours, employer_rows=employer_rows, headcount=count,
    )




def to_xlsx(report: Report) -> io.BytesIO:
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="E6F0FA")
    wb = Workbook()
    fair = report.fair

    summary = wb.active
    summary.title = _("总览")
    summary.append([fair.title])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append([_("日期"), fair.date.strftime("%Y-%m-%d")])
    summary.append([_("地点"), fair.venue])
    if fair.campaign:
        summary.append([_("活动"), fair.campaign])
    summary.append([_("生成时间"), local_time(report.generated_at)])
    summary.append([])
    for label, value in [
        (_("参会企业（家）"), report.employers), (_("招聘岗位（个）"), report.posts),
        (_("平均月薪（元）"), report.average_pay), (_("进场人数（人）"), report.headcount.total),
        (_("其中服务台计数（人）"), report.headcount.walkins),
        (_("达成意向（人）"), report.total.people),
        (_("达成意向（条）"), report.total.intents),
        (_("进场者中达成意向（%）"), report.headcount.signed_share),
        (_("已联系（人）"), report.total.contacted), (_("已面试（人）"), report.total.interviewed),
        (_("现场签约（人）"), report.total.signed), (_("录用（人）"), report.total.hired),
        (_("到岗（人）"), report.total.onboard),
    ]:
        summary.append([label, value])
        summary.cell(summary.max_row, 1).font = bold

    def table(title: str, first: str, rows: list[Row], note: str = "", lead: list[str] | None = None):
        ws = wb.create_sheet(title)
        heading = (lead or []) + [first] + [
            _("进场人数"), _("达成意向（人）"), _("达成意向（条）"), _("已联系（人）"), _("已面试（人）"),
            _("现场签约（人）"), _("录用（人）"), _("到岗（人）")]
        ws.append(heading)
        for cell in ws[1]:
            cell.font, cell.fill = bold, head_fill
            cell.alignment = Alignment(horizontal="center")
        for row in rows:
            prefix = row[0] if isinstance(row, tuple) else None
            r = row[1] if isinstance(row, tuple) else row
            ws.append(([prefix] if lead else []) + [
                r.label, r.entered, r.people, r.intents, r.contacted, r.interviewed, r.signed,
                r.hired, r.onboard])
        if note:
            ws.append([])
            ws.append([note])
        return ws

    groups = report.groups + ([report.no_group] if report.no_group and report.no_group.intents else [])
    table(_("按重点群体"), _("重点群体"), groups + [report.total], _("一人可属多个重点群体，各群体人数之和可能大于合计。"))
    table(_("按来源"), _("登记来源"), report.sources + [report.total])
    table(_("按时段"), _("时段"), report.hours + [report.total])
    table(_("按企业"), _("企业"), report.employer_rows, lead=[_("展位号")])

    for ws in wb.worksheets:
        for i, width in enumerate([22, 14, 12, 14, 14, 14, 14, 14, 14, 14], start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
    wb[_("按企业")].column_dimensions["B"].width = 34
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out
