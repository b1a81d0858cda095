"""The bureau's follow-up pages (organiser admins): find a person and open their file
(一人一档; each search and each view is logged), the call list with a one-line outcome to
record, its real-name register as xlsx (logged), and the employers who have not called."""
from __future__ import annotations

import os
import tempfile

from flask import Blueprint, abort, flash, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font

from fairsite import clock
from fairsite.accounts.models import ADMIN
from fairsite.accounts.service import organiser_roles
from fairsite.audit import service as audit
from fairsite.clock import local_time
from fairsite.extensions import db
from fairsite.followups import service
from fairsite.followups.forms import FollowUpForm
from fairsite.intents.models import KEY_GROUPS, SOURCES, STATUSES, Attendee
from fairsite.intents.service import follow_up_hours
from fairsite.numbers import parse_page
from fairsite.sql import write_transaction
from fairsite.web import after_write, download_name, is_htmx, render

bp = Blueprint("manage_followups", __name__)

# Every page here is for the organiser role "admin" (管理员): personal files, the call list
# and its register hold names and full numbers of people in key groups.
admin_only = organiser_roles(ADMIN)


def _attendee(attendee_id: int) -> Attendee:
    attendee = db.session.get(Attendee, attendee_id)
    if attendee is None:
        abort(404)
    return attendee


def _groups(codes: str) -> list[str]:
    return [str(KEY_GROUPS[c]) for c in (codes or "").split(",") if c in KEY_GROUPS]


def _common() -> dict:
    return {"hours": round(follow_up_hours()), "group_labels": _groups,
            "call_groups": [str(KEY_GROUPS[c]) for c in service.call_list_groups()]}


# ---- search and the person's file -----------------------------------------------------------

@bp.get("/manage/people")
@admin_only
def people():
    search = service.search_people(request.args.get("q"), message=_)
    if search.kind:
        with write_transaction():
            audit.record("people.search", None, None, search.detail())
    counts = service.intent_counts([r.id for r in search.rows])
    return render("followups/people.html", "followups/_people_results.html",
                  search=search, counts=counts, **_common())


def _file_context(attendee: Attendee, form: FollowUpForm | None = None) -> dict:
    return dict(
        person=attendee, intents=service.intents_of([attendee.id])[attendee.id],
        checkins=service.checkins_of(attendee.id),
        notes=service.followups_of([attendee.id])[attendee.id],
        on_list=service.on_call_list(attendee.id), form=form or FollowUpForm(formdata=None),
        now=clock.utcnow(), hours_since=service.hours_since, **_common(),
    )


@bp.get("/manage/people/<int:attendee_id>")
@admin_only
def person(attendee_id: int):
    attendee = _attendee(attendee_id)
    with write_transaction():
        audit.record("people.view", "attendee", attendee_id)
    return render("followups/person.html", **_file_context(attendee))


@bp.post("/manage/people/<int:attendee_id>/followups")
@admin_only
def create(attendee_id: int):
    """Record a follow-up note, from the person's file or from the call list (`from=queue`)."""
    from_queue = request.form.get("from") == "queue"
    attendee = _attendee(attendee_id)
    form = FollowUpForm()
    error = None
    if attendee.purged_at is not None:
        error = _("这个人的信息已按保存期限清除，不能再记录回访。")
    elif not form.validate_on_submit():
        error = next(iter(form.outcome.errors), None) or _("页面已过期，请刷新后再试。")
    if error is None:
        with write_transaction():
            note = service.add_followup(attendee_id, form.outcome.data, current_user.id)
            # The outcome itself stays out of the log: it is free text about a person.
            audit.record("followup.add", "attendee", attendee_id, f"followup={note.id}")
        attendee = _attendee(attendee_id)
        if from_queue:
            return after_write(url_for("manage_followups.queue"), "followups/_queue_done.html",
                               person=attendee, outcome=form.outcome.data,
                               total=service.call_list_total() if is_htmx() else None)
        if not is_htmx():
            flash(_("已记录回访"), "ok")
        return after_write(url_for("manage_followups.person", attendee_id=attendee_id),
                           "followups/_notes.html", saved=True, **_file_context(attendee))
    # What was typed stays in the field, with the reason beside it.
    if from_queue:
        if is_htmx():
            context = _queue_row_context(attendee, form, error)
            if context["row"] is None:
                # Off the list meanwhile (an employer called, a colleague recorded a call).
                return render("followups/queue.html", "followups/_queue_gone.html", 200, **context)
            return render("followups/queue.html", "followups/_queue_row.html", 200, **context)
        flash(error, "error")
        page = _queue_context(parse_page(request.form.get("page")))
        page.update(errors={attendee_id: error}, typed={attendee_id: form.outcome.data or ""})
        return render("followups/queue.html", None, 422, **page)
    context = _file_context(attendee, form)
    return render("followups/person.html", "followups/_notes.html", 200 if is_htmx() else 422,
                  error=error, **context)


# ---- the call list --------------------------------------------------------------------------

def _queue_context(page: int) -> dict:
    rows, total = service.call_list(page)
    pages = max(1, -(-total // service.QUEUE_PAGE))
    ids = [r.id for r in rows]
    return dict(rows=rows, total=total, page=page, pages=pages, intents=service.intents_of(ids),
                notes=service.followups_of(ids), reason=service.reason, errors={}, typed={},
                now=clock.utcnow(), hours_since=service.hours_since, **_common())


def _queue_row_context(attendee: Attendee, form: FollowUpForm, error: str) -> dict:
    row = next((r for r in service.call_list_rows([attendee.id])), None)
    return dict(row=row, person=attendee, intents=service.intents_of([attendee.id]),
                notes=service.followups_of([attendee.id]), reason=service.reason,
                errors={attendee.id: error}, typed={attendee.id: form.outcome.data or ""},
                now=clock.utcnow(), hours_since=service.hours_since, page=1, **_common())


@bp.get("/manage/followups")
@admin_only
def queue():
    return render("followups/queue.html", **_queue_context(parse_page(request.args.get("page"))))


# ---- the real-name register (实名制台账) ------------------------------------------------------

def _register_header() -> list[str]:
    # 性别 is left out: the site does not ask for it, and a bureau's register omits a column
    # it does not hold rather than leave it blank.
    return [_("姓名"), _("手机号"), _("重点群体"), _("户籍/家乡"), _("登记招聘会"), _("意向企业及岗位"),
            _("状态"), _("回访时间"), _("回访人"), _("回访结果")]


def _safe(value):
    # A cell starting with = + - @ is a formula to a spreadsheet; people type their own names.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _register_cells(person, intents: list, notes: list) -> list:
    active = [i for i in intents if i.withdrawn_at is None]
    places = []
    for i in active:
        place = i.fair_title or (_("直播：%(t)s", t=i.live_title) if i.live_title else str(SOURCES.get(i.source, "")))
        if place and place not in places:
            places.append(place)
    latest = notes[0] if notes else None
    return [
        person.name, person.phone, "、".join(_groups(person.groups)), person.hometown,
        "\n".join(places),
        "\n".join(f"{i.employer_name} — {i.vacancy_title}" for i in active),
        "\n".join(str(STATUSES.get(i.status, i.status)) for i in active),
        local_time(latest.created_at) if latest else "",
        (latest.user_name or _("（已删除的账号）")) if latest else "",
        latest.outcome if latest else "",
    ]


def _register_file(batches) -> tuple[object, int]:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("实名制台账"))
    for col, width in zip("ABCDEFGHIJ", (10, 14, 16, 14, 26, 36, 12, 18, 10, 36), strict=True):
        sheet.column_dimensions[col].width = width
    sheet.freeze_panes = "A2"
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    header = []
    for title in _register_header():
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    rows = 0
    for batch in batches:
        for person, intents, notes in batch:
            cells = []
            for value in _register_cells(person, intents, notes):
                cell = WriteOnlyCell(sheet, value=_safe(value))
                cell.alignment = wrap
                cells.append(cell)
            sheet.append(cells)
            rows += 1
    handle = tempfile.NamedTemporaryFile(prefix="fairsite-register-", suffix=".xlsx", delete=False)
    handle.close()
    try:
        workbook.save(handle.name)
        stream = open(handle.name, "rb")  # noqa: SIM115 - send_file closes it
    finally:
        os.unlink(handle.name)  # the open handle keeps the data readable
    return stream, rows


@bp.post("/manage/followups/export")
@admin_only
def export():
    scope = request.form.get("scope", "queue")
    if scope not in ("queue", "all"):
        abort(400)
    stream, rows = _register_file(service.register_batches(scope))
    with write_transaction():
        audit.record("followups.export", None, None, f"scope={scope} rows={rows}")
    stamp = local_time(clock.utcnow(), "%Y%m%d-%H%M")
    return send_file(
        stream, as_attachment=True, download_name=download_name(f"实名制台账-{stamp}", "xlsx"),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", max_age=0,
    )


# ---- employers who have not called ----------------------------------------------------------

@bp.get("/manage/followups/employers")
@admin_only
def employers():
    now = clock.utcnow()
    return render("followups/employers.html", rows=service.slow_employers(now), now=now,
                  hours_since=service.hours_since, **_common())
