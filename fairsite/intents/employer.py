"""The employer's list of the people who signed: one list across its booths and live
sessions, filtered; status and note moved on inline; full phone numbers only on an explicit,
logged action (one row's "显示号码", or an export); new rows arrive over SSE, with polling
as the fallback. The list is read with plain Core queries (no ORM objects per row)."""
from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterator
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import func, select

from fairsite import events, sse
from fairsite.accounts.models import ADMIN, BOOTH
from fairsite.accounts.service import employer_roles, may_open, own_employer_id
from fairsite.audit import service as audit
from fairsite.booths.models import Booth
from fairsite.clock import local_time, utcnow
from fairsite.extensions import db
from fairsite.fairs.models import Fair
from fairsite.forms import clean_text
from fairsite.intents.models import KEY_GROUPS, SOURCES, STATUSES, Intent
from fairsite.intents.service import (
    IntentFilter,
    count_rows,
    follow_up_hours,
    intent_rows,
    newer_than,
    row_query,
    set_status,
)
from fairsite.numbers import parse_id
from fairsite.sql import write_transaction
from fairsite.tallies import service as tallies
from fairsite.tallies.models import Tally
from fairsite.vacancies.models import Vacancy
from fairsite.web import download_name, is_htmx, mask_phone, render

bp = Blueprint("employer_intents", __name__)
EXPORT_BATCH = 1000


def one_row(employer_id: int, intent_id: int):
    row = db.session.execute(row_query(employer_id).where(Intent.id == intent_id)).first()
    if row is None:
        abort(404)
    return row


def list_version(employer_id: int) -> str:
    """Changes whenever a row of the employer's list could look different, read from indexes
    and counters only, none of them growing with the employer's intents:
    - the newest intent (the first entry of the employer/created index): new rows;
    - the employer's live-intent counter (tallies "all"): withdrawals, reinstatements, erased
      rows that were live;
    - how many of its intents are withdrawn (the partial index of withdrawn intents, as long as
      the withdrawals): withdrawals and reinstatements together, erased withdrawn rows;
    - the employer's own version (tallies "employer:<id>"): status and note changes."""
    newest, withdrawn, live, own = db.session.execute(
        select(
            select(Intent.id).where(Intent.employer_id == employer_id)
            .order_by(Intent.created_at.desc(), Intent.id.desc()).limit(1).scalar_subquery(),
            select(func.count()).select_from(Intent)
            .where(Intent.employer_id == employer_id, Intent.withdrawn_at.is_not(None)).scalar_subquery(),
            select(Tally.n).where(Tally.scope == "all", Tally.dim == "employer",
                                  Tally.key == str(employer_id)).scalar_subquery(),
            select(Tally.n).where(Tally.scope == f"employer:{employer_id}", Tally.dim == "version",
                                  Tally.key == "").scalar_subquery(),
        )
    ).one()
    return f"{newest or 0}-{withdrawn}-{live or 0}-{own or 0}"


def filter_choices(employer_id: int) -> dict:
    # An employer's intents at a fair come through its booth there.
    fairs = db.session.execute(
        select(Fair.id, Fair.title).join(Booth, Booth.fair_id == Fair.id)
        .where(Booth.employer_id == employer_id).order_by(Fair.date.desc())
    ).all()
    vacancies = db.session.execute(
        select(Vacancy.id, Vacancy.title, Vacancy.is_open)
        .where(Vacancy.employer_id == employer_id).order_by(Vacancy.id)
    ).all()
    return {"fairs": fairs, "vacancies": vacancies}


def _list_context(employer_id: int, filt: IntentFilter, revealed: int | None = None) -> dict:
    # A page starts after the intent named by ?after= (keyset: the same cost on any page).
    after = parse_id(request.values.get("after"))
    results = intent_rows(employer_id, filt, after=after)
    return dict(
        filt=filt, results=results, rows=results.rows, after=after,
        version=list_version(employer_id), revealed=revealed, **filter_choices(employer_id),
        overdue_hours=round(follow_up_hours()),
    )


@bp.get("/employer/intents")
@employer_roles(ADMIN, BOOTH)
def index():
    employer_id = own_employer_id()
    context = _list_context(employer_id, IntentFilter.from_args(request.args))
    return render("intents/employer_index.html", "intents/_employer_rows.html", **context)


@bp.get("/employer/intents/rows")
@employer_roles(ADMIN, BOOTH)
def rows():
    """The rows fragment. With ?v= the caller's version: 204 (htmx keeps what it shows)
    when nothing changed, so SSE nudges and polling cost one aggregate query."""
    employer_id = own_employer_id()
    known = request.args.get("v")
    if known is not None and known == list_version(employer_id):
        return Response(status=204)
    context = _list_context(employer_id, IntentFilter.from_args(request.args))
    return render("intents/employer_index.html", "intents/_employer_rows.html", **context)


@bp.get("/employer/intents/stream")
@employer_roles(ADMIN, BOOTH)
def stream():
    return sse.stream(f"employer:{own_employer_id()}")


def _own_intent(employer_id: int, intent_id: int) -> Intent:
    intent = db.session.get(Intent, intent_id)
    if intent is None or intent.employer_id != employer_id:
        abort(404)
    return intent


@bp.post("/employer/intents/<int:intent_id>/status")
@employer_roles(ADMIN, BOOTH)
def status(intent_id: int):
    employer_id = own_employer_id()
    status = request.form.get("status", "")
    note = clean_text(request.form.get("note") or "", 500)
    with write_transaction():
        intent = _own_intent(employer_id, intent_id)
        if intent.is_withdrawn:
            error = _("对方已撤回意向，不能再更改状态")
        elif status not in STATUSES:
            error = _("请选择跟进状态")
        else:
            error = None
            change = f"{intent.status} -> {status}" + ("; note" if note != intent.note else "")
            set_status(intent, status, note)
            # The note itself stays out of the log: it is free text about a person.
            audit.record("intent.status", "intent", intent.id, change)
            # The list's refresh check reads this instead of visiting rows.
            tallies.touch(f"employer:{employer_id}")
        fair_id, live_id = intent.fair_id, intent.live_session_id
    if error is None:
        events.intent_changed(fair_id, live_id, employer_id)
    if not is_htmx():
        if error is not None:
            flash(error, "error")
        return _redirect_back()
    filt = IntentFilter.from_args(request.form)
    after = parse_id(request.form.get("after"))
    # The list's refresh element goes back with the new version: the employer's own change
    # is already on screen (with "已保存"), so it need not redraw the whole list.
    poll = dict(version=list_version(employer_id), after=after) if error is None else None
    return render("intents/_employer_row.html", None, 200, row=one_row(employer_id, intent_id),
                  revealed=None, error=error, saved=error is None, filt=filt, after=after, poll=poll)


def _redirect_back():
    return redirect(url_for("employer_intents.index", after=parse_id(request.form.get("after")),
                            **IntentFilter.from_args(request.form).args()), code=303)


@bp.post("/employer/intents/<int:intent_id>/reveal")
@employer_roles(ADMIN)
def reveal(intent_id: int):
    employer_id = own_employer_id()
    with write_transaction():
        intent = _own_intent(employer_id, intent_id)
        withdrawn = intent.is_withdrawn
        purged = intent.attendee.purged_at is not None
        if not withdrawn and not purged:
            audit.record("phone.reveal", "intent", intent.id)
    if withdrawn or purged:
        # They took their intent back: their number is no longer the employer's to call (or
        # it was erased when its keeping time ran out). The row comes back as it now is.
        if is_htmx():
            return render("intents/_employer_row.html", None, 200, row=one_row(employer_id, intent_id))
        flash(_("对方已撤回意向，不再显示号码") if withdrawn else _("这个人的信息已按保存期限清除"), "error")
        return _redirect_back()
    if is_htmx():
        return render("intents/_employer_row.html", None, 200, row=one_row(employer_id, intent_id),
                      revealed=intent_id, filt=IntentFilter.from_args(request.form),
                      after=parse_id(request.form.get("after")))
    # Without JavaScript: the list itself, with this one number shown.
    filt = IntentFilter.from_args(request.form)
    return render("intents/employer_index.html", None, 200,
                  **_list_context(employer_id, filt, revealed=intent_id))


# ---- export -------------------------------------------------------------------------------

def _header() -> list[str]:
    return [_("姓名"), _("手机号"), _("重点群体"), _("家乡"), _("意向岗位"), _("招聘会"), _("来源"),
            _("展位/直播"), _("登记时间"), _("跟进状态"), _("首次联系时间"), _("备注")]


def _labels() -> dict:
    """The export's words, translated once per file (a lazy string looks its translation up
    each time it is used: 60,000 times in a file of 20,000 rows)."""
    return {
        "groups": {code: str(label) for code, label in KEY_GROUPS.items()},
        "sources": {code: str(label) for code, label in SOURCES.items()},
        "statuses": {code: str(label) for code, label in STATUSES.items()},
        "withdrawn": _("已撤回"), "purged": _("（信息已按期清除）"),
    }


def _cells(row, labels: dict) -> list:
    withdrawn = row.withdrawn_at is not None
    where = row.booth_number or row.live_title or ""
    if row.purged_at is not None:
        # Erased when its keeping time ran out: the intent is counted, the person is gone.
        name, phone = labels["purged"], ""
    else:
        # A withdrawn intent is kept on record, but its number is not handed out.
        name, phone = row.name, mask_phone(row.phone) if withdrawn else row.phone
    groups = labels["groups"]
    return [
        name,
        phone,
        "、".join(groups.get(g, g) for g in row.groups.split(",") if g),
        row.hometown,
        row.vacancy_title,
        row.fair_title or "",
        labels["sources"].get(row.source, row.source),
        where,
        local_time(row.created_at),
        labels["withdrawn"] if withdrawn else labels["statuses"].get(row.status, row.status),
        local_time(row.contacted_at),
        row.note,
    ]


def _safe_cell(value):
    # A cell starting with = + - @ is a formula to a spreadsheet; attendees type their names.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export_batches(employer_id: int, filt: IntentFilter) -> Iterator[list]:
    """All matching rows, oldest first, read EXPORT_BATCH at a time by keyset (created_at, id:
    the walk of the list's index goes on from the last row, never from the start), each batch
    in a short transaction of its own on the session's connection, given back to the pool
    before the batch is written out: no transaction stays open while the file streams, and
    the request never holds a second connection (whatever touched the session before)."""
    base = filt.apply(row_query(employer_id)).order_by(Intent.created_at, Intent.id).limit(EXPORT_BATCH)
    last = None
    while True:
        rows = db.session.execute(base if last is None else base.where(newer_than(employer_id, last))).all()
        # Nothing is pending in an export's session; the commit ends the read and frees the
        # connection.
        db.session.commit()
        if not rows:
            return
        yield rows
        last = rows[-1].id
        if len(rows) < EXPORT_BATCH:
            return


def _csv_stream(batches: Iterator[list]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    # Excel reads a UTF-8 CSV as such only when it starts with a byte order mark.
    writer.writerow(_header())
    labels = _labels()
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
    for rows in batches:
        buffer.seek(0)
        buffer.truncate()
        for row in rows:
            writer.writerow([_safe_cell(c) for c in _cells(row, labels)])
        yield buffer.getvalue().encode("utf-8")


def _xlsx_file(batches: Iterator[list]):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("求职意向")
    for col, width in zip("ABCDEFGHIJKL", (10, 14, 18, 10, 18, 30, 12, 12, 18, 10, 18, 30), strict=True):
        sheet.column_dimensions[col].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for title in _header():
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    labels = _labels()
    for rows in batches:
        for row in rows:
            sheet.append([_safe_cell(c) for c in _cells(row, labels)])
    handle = tempfile.NamedTemporaryFile(prefix="fairsite-export-", suffix=".xlsx", delete=False)
    handle.close()
    try:
        workbook.save(handle.name)
        stream = open(handle.name, "rb")  # noqa: SIM115 - send_file closes it
    finally:
        # The open handle keeps the data readable; the name goes at once.
        os.unlink(handle.name)
    return stream


@bp.post("/employer/intents/export")
@employer_roles(ADMIN)
def export():
    employer_id = own_employer_id()
    fmt = request.form.get("format", "xlsx")
    if fmt not in ("xlsx", "csv"):
        abort(400)
    filt = IntentFilter.from_args(request.form)
    count, _more = count_rows(employer_id, filt)
    detail = " ".join([fmt, f"rows={count}"] + [f"{k}={v}" for k, v in filt.args().items()])
    with write_transaction():
        audit.record("intents.export", None, None, detail)
    # The commit above ended the session's transaction: nothing stays open while the file
    # streams (each batch is a short read of its own).
    stamp = local_time(utcnow(), "%Y%m%d-%H%M")
    name = download_name(f"求职意向-{stamp}", fmt)
    if fmt == "xlsx":
        return send_file(
            _xlsx_file(export_batches(employer_id, filt)), as_attachment=True, download_name=name,
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            max_age=0,
        )
    response = Response(
        stream_with_context(_csv_stream(export_batches(employer_id, filt))), mimetype="text/csv"
    )
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"intents-{stamp}.csv\"; filename*=UTF-8''{quote(name)}"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


_ID = 987654321  # stands for a row's id in URL patterns built once per request


@bp.app_template_global()
def intent_row_kit() -> dict:
    """What every row of the list repeats (labels, the CSRF token, its action URLs), worked out
    once per request: translating and building URLs 100 times over was most of a page's cost."""
    kit = getattr(g, "_intent_row_kit", None)
    if kit is None:
        kit = {
            "csrf": generate_csrf(),
            "status_url": url_for("employer_intents.status", intent_id=_ID),
            "reveal_url": url_for("employer_intents.reveal", intent_id=_ID),
            # Booth staff see masked numbers only (no reveal button).
            "can_reveal": may_open("employer_intents.reveal"),
            "id": str(_ID),
            "labels": {
                "name": _("姓名"), "phone": _("手机号"), "groups": _("重点群体"),
                "vacancy": _("意向岗位"), "source": _("来源"), "time": _("登记时间"),
                "follow": _("跟进"), "reveal": _("显示号码"), "withdrawn": _("已撤回"),
                "status": _("跟进状态"), "note": _("备注"), "note_hint": _("备注，如：周三面试"),
                "save": _("保存"), "saved": _("已保存"),
                "purged": _("（信息已按期清除）"),
            },
            # Translated once here, not once per row (lazy strings cost a lookup each time).
            "sources": {code: str(label) for code, label in SOURCES.items()},
            "groups": {code: str(label) for code, label in KEY_GROUPS.items()},
        }
        statuses = [(code, str(label)) for code, label in STATUSES.items()]
        parts: dict = {}

        def part(template: str, key, **context) -> Markup:
            # Markup the rows repeat, rendered once per request and key from its own template.
            if key not in parts:
                parts[key] = Markup(current_app.jinja_env.get_template(template).render(**context))
            return parts[key]

        kit["status_options"] = lambda status: part(
            "intents/_status_options.html", ("status", status), statuses=statuses, selected=status)
        kit["list_args"] = lambda filt, after: part(
            "intents/_list_args.html", ("args", tuple(filt.args().items()) if filt else (), after),
            filt=filt, after=after)
        g._intent_row_kit = kit
    return kit


@bp.app_template_filter("group_labels")
def group_labels(groups: str) -> list[str]:
    return [KEY_GROUPS.get(g, g) for g in (groups or "").split(",") if g]
