"""Importing employers and vacancies from a spreadsheet: the upload kept between preview and
confirm, reading and checking every row, and writing the import in one transaction.

One function, `run_import`, does both the preview and the import itself: it walks the file
once, row by row (openpyxl read-only, values as stored: a formula is text it refuses, never
evaluated), checks each row, compares it with what the database holds (new / changed /
unchanged) and, when asked to write, writes it. Rows are looked up in the database CHUNK at a
time and nothing of a row is kept once it is counted (beyond its key, for duplicates, and the
rows of the page being shown), so memory stays flat in the number of rows. The preview's
digest sums up every row's planned change: the import writes only when its own walk comes to
the same digest (nothing changed in between) and found no error; otherwise it rolls back.

Matching: an employer by its unified social credit code, a vacancy by its employer's code and
its title. A new employer is approved (the bureau itself lists it) and gets one employer login,
switched off until an organiser sends it (ImportedLogin). With a fair chosen, every employer of
the file gets a booth there (new booths approved and numbered in the chosen zone; an employer
still pending gets an application) and the file's vacancies are placed at it. The fair's
search index and the booths' totals follow by the database's triggers (migration b50_search);
booth pages and tally boards expire through touch_*."""
from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as clock_time
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from fairsite.accounts.models import EMPLOYER, User
from fairsite.booths.models import Booth, BoothVacancy
from fairsite.booths.service import touch_booths_of_vacancy, touch_employer
from fairsite.clock import utcnow
from fairsite.employers.credit_code import normalise_credit_code
from fairsite.employers.models import APPROVED, Employer
from fairsite.extensions import db
from fairsite.fairs.models import Fair
from fairsite.forms import clean_line, clean_text
from fairsite.imports import sheets
from fairsite.imports.models import ImportedLogin
from fairsite.phones import normalise_phone
from fairsite.tallies import service as tallies
from fairsite.vacancies.forms import AGE_MAX, AGE_MIN, PAY_MAX, PAY_MIN, parse_whole_number
from fairsite.vacancies.models import CATEGORIES, EDUCATION, Vacancy

CHUNK = 500
# Columns read per row: the template's, and room for a few the organiser added or moved.
MAX_COLUMNS = 30
# Rows walked (blank ones too) past the row limit before the file is given up as broken: a
# sheet of a million empty rows takes no memory to store but a minute to walk.
SCAN_MARGIN = 1000
# What the xlsx (a zip) may unpack to, and how many parts it may have: a small file that
# unpacks to gigabytes (a "zip bomb") is refused before openpyxl opens it.
MAX_UNPACKED = 25 * 1024 * 1024
MAX_PARTS = 200
# Errors the preview lists one by one (the count says how many there are in all).
MAX_LISTED_ERRORS = 300
PAGE_SIZE = 100
# Uploads not confirmed are removed after this many hours.
KEEP_HOURS = 24
ZONES = "ABCDEFGH"

_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
# A cell that a spreadsheet program would run as a formula when the data goes out again.
_FORMULA_START = ("=", "+", "-", "@")
_TAG = re.compile(r"<\s*[A-Za-z!/?]")
_SPLIT_BENEFITS = re.compile(r"[、,，;；/／\s+＋]+")

NEW, CHANGED, UNCHANGED, ERROR = "new", "changed", "unchanged", "error"
SHOWS = ("all", NEW, CHANGED, UNCHANGED, ERROR)


def max_rows() -> int:
    return int(current_app.config["IMPORT_MAX_ROWS"])


# ---- the upload, kept under instance/imports/ by a random token -------------------------

def _folder() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def valid_token(token: str | None) -> bool:
    return bool(token) and _TOKEN.fullmatch(token) is not None


def upload_path(token: str) -> Path | None:
    """The stored file of `token`, or None (a token of any other form names no file: no path
    is ever built from what a request sent, beyond these 32 URL-safe characters)."""
    if not valid_token(token):
        return None
    path = _folder() / f"{token}.xlsx"
    return path if path.is_file() else None


@dataclass(frozen=True)
class Upload:
    token: str
    path: Path
    name: str  # the file's name as uploaded (for the page only)
    user_id: int
    at: str


def store_upload(stream, filename: str, user_id: int) -> str:
    """Keep an uploaded file for its preview and confirm; returns its token."""
    remove_stale()
    token = secrets.token_urlsafe(24)
    folder = _folder()
    with open(folder / f"{token}.xlsx", "wb") as out:
        while chunk := stream.read(64 * 1024):
            out.write(chunk)
    meta = {"name": clean_line(clean_text(filename or "", 100)), "user": user_id,
            "at": utcnow().isoformat(timespec="seconds")}
    (folder / f"{token}.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return token


def get_upload(token: str, user_id: int) -> Upload | None:
    """The upload of `token` if this user made it (another's token is as good as none)."""
    path = upload_path(token)
    if path is None:
        return None
    try:
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("user") != user_id:
        return None
    return Upload(token, path, str(meta.get("name") or ""), user_id, str(meta.get("at") or ""))


def discard_upload(token: str) -> None:
    if not valid_token(token):
        return
    for suffix in (".xlsx", ".json"):
        (_folder() / f"{token}{suffix}").unlink(missing_ok=True)


def remove_stale(now: float | None = None) -> int:
    """Remove uploads older than KEEP_HOURS; returns how many."""
    cutoff = (now or time.time()) - KEEP_HOURS * 3600
    removed = 0
    for path in _folder().iterdir():
        if path.suffix in (".xlsx", ".json") and valid_token(path.stem):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += path.suffix == ".xlsx"
            except OSError:
                pass
    return removed


# ---- reading cells ----------------------------------------------------------------------

class CellError(ValueError):
    """What is wrong with one cell, in Chinese."""


def _text(value) -> str:
    """A cell's value as text. Numbers as written (4000.0 is 4000); dates are refused (no
    column takes one, and Excel shows them as something else than it stores)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime | date | clock_time):
        raise CellError(_("这里不能填日期或时间，请改为文字"))
    text = clean_text(clean_line(str(value)))
    if text.startswith("="):
        raise CellError(_("不能使用公式（导入不计算公式）：请直接填写文字或数值"))
    return text


def _checked_text(raw: str, column: sheets.Column) -> str:
    if raw.startswith(_FORMULA_START):
        raise CellError(_("不能以 = + - @ 开头（这是公式的写法）：请直接填写文字或数值"))
    if _TAG.search(raw):
        raise CellError(_("不能含有 < 开头的标记（网页代码）"))
    if column.max_length and len(raw) > column.max_length:
        raise CellError(_("最多 %(n)s 字，这里有 %(m)s 字", n=column.max_length, m=len(raw)))
    return raw


def _number(raw: str, low: int, high: int, message) -> int | None:
    """The whole number a cell holds (None when empty); `message()` says why it is out of range."""
    if raw == "":
        return None
    try:
        value = parse_whole_number(raw)
    except ValueError:
        raise CellError(_("请填写整数，例如 4000")) from None
    if value is None:
        return None
    if not low <= value <= high:
        raise CellError(message())
    return value


def _choices(options: dict) -> dict[str, str]:
    """Label, code and each half of a label ("普工/操作工": "普工", "操作工") -> code."""
    out: dict[str, str] = {}
    for code, label in options.items():
        label = str(label)
        for name in (code, label, *label.split("/")):
            if name:
                out.setdefault(unicodedata.normalize("NFKC", name).lower(), code)
    return out


def _choice(raw: str, options: dict[str, str]) -> str | None:
    return options.get(unicodedata.normalize("NFKC", raw).replace(" ", "").lower())


# ---- what the walk reports --------------------------------------------------------------

@dataclass
class Row:
    """One data row as it will be stored: its values shown per column, what changes."""

    sheet: str
    number: int  # the spreadsheet's row number
    shown: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)  # column key ('' for the row) -> message
    action: str = NEW
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (header, old, new)
    booth: str = ""  # where it goes at the chosen fair

    @property
    def headers(self) -> dict[str, str]:
        return {c.key: c.header for c in sheets.COLUMNS[self.sheet]}


@dataclass(frozen=True)
class Problem:
    sheet: str
    row: int | None  # None: the sheet or the file
    column: str  # header, or ""
    message: str
    first: bool = False


@dataclass
class View:
    """Which rows the preview page shows (the rest are only counted)."""

    sheet: str = sheets.EMPLOYERS
    show: str = "all"
    page: int = 1


@dataclass
class Report:
    counts: dict[str, Counter] = field(default_factory=lambda: {s: Counter() for s in sheets.COLUMNS})
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    rows: list[Row] = field(default_factory=list)  # the page of rows the View asked for
    matching: int = 0  # rows of the View's sheet and filter, on every page
    booths_new: int = 0
    placements_new: int = 0
    logins_new: int = 0
    digest: str = ""
    wrote: bool = False

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def changes(self) -> int:
        return sum(c[NEW] + c[CHANGED] for c in self.counts.values()) + self.booths_new + self.placements_new

    def problem(self, sheet: str, row: int | None, column: str, message: str, *,
                first: bool = False) -> None:
        """Count a problem, and list it if the list has room; `first`: a problem of the whole
        sheet or file, listed before the rows' whatever their number."""
        self.problem_count += 1
        if first:
            self.problems.insert(sum(1 for p in self.problems if p.first), Problem(sheet, row, column, message, True))
        elif len(self.problems) < MAX_LISTED_ERRORS:
            self.problems.append(Problem(sheet, row, column, message))


class FileProblem(Exception):
    """The file as a whole cannot be read."""


def _open(path: Path):
    """The workbook, read-only, once the file is known to be a modest xlsx."""
    if not zipfile.is_zipfile(path):
        raise FileProblem(_("这不是 Excel 表格（.xlsx）文件。请下载模板，填写后以 .xlsx 格式保存再上传。"))
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            if len(parts) > MAX_PARTS or sum(p.file_size for p in parts) > MAX_UNPACKED:
                raise FileProblem(_("这个文件解压后过大，不像是填写好的模板。请只保留“企业”“岗位”两张表，"
                                    "删去多余的空行和图片后再上传。"))
            if "xl/workbook.xml" not in {p.filename for p in parts}:
                raise FileProblem(_("这不是 Excel 表格（.xlsx）文件。请下载模板，填写后以 .xlsx 格式保存再上传。"))
    except zipfile.BadZipFile:
        raise FileProblem(_("文件已损坏，无法打开。请重新保存后再上传。")) from None
    try:
        # read_only streams the rows; data_only=False keeps a formula as its text, so it is
        # refused rather than its cached result taken; keep_links=False ignores external links.
        return load_workbook(path, read_only=True, data_only=False, keep_links=False)
    except Exception:  # openpyxl raises many kinds for a broken file, defusedxml for a hostile one
        current_app.logger.info("An uploaded spreadsheet could not be opened", exc_info=True)
        raise FileProblem(_("无法读取这个文件。请用模板填写，另存为 Excel 工作簿（.xlsx）后再上传。")) from None


def _header_key(raw) -> str:
    text = unicodedata.normalize("NFKC", str(raw or "")).strip().rstrip("*").strip()
    return re.sub(r"\s+", "", text)


def _read(rows: Iterator) -> Iterator:
    """The sheet's rows; a part of the file that is broken shows only once its rows are read,
    as whatever openpyxl or the XML parser raises: FileProblem instead."""
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except Exception:
            current_app.logger.info("An uploaded spreadsheet broke while read", exc_info=True)
            raise FileProblem(_("文件读到一半出错（内容已损坏）。请重新保存为 .xlsx 后再上传。")) from None
        yield row


def _rows(ws, sheet: str, report: Report) -> Iterator[tuple[int, dict[str, str], dict[str, str]]]:
    """(row number, text per column key, errors per column key) of each non-blank data row."""
    columns = sheets.COLUMNS[sheet]
    by_header = {_header_key(c.header): c for c in columns}
    limit = max_rows()
    rows = _read(ws.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True))
    header = next(rows, None) or ()
    positions: dict[str, int] = {}
    for n, raw in enumerate(header):
        column = by_header.get(_header_key(raw))
        if column is not None and column.key not in positions:
            positions[column.key] = n
    missing = [c.header for c in columns if c.required and c.key not in positions]
    if missing:
        report.problem(sheet, 1, "", _("第一行缺少这些列：%(cols)s。请使用模板的表头。", cols="、".join(missing)), first=True)
        return
    data = 0
    for number, values in enumerate(rows, start=2):
        if number > limit + SCAN_MARGIN + 1:
            report.problem(sheet, None, "", _("表“%(s)s”的行数太多（读到第 %(n)s 行仍未结束）：请删去空行，"
                                              "每个文件最多 %(max)s 行。", s=sheet, n=f"{number - 1:,}",
                                              max=f"{limit:,}"), first=True)
            return
        if not values or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        data += 1
        if data > limit:
            report.problem(sheet, number, "", _("表“%(s)s”超过 %(max)s 行：请分成几个文件导入。",
                                                s=sheet, max=f"{limit:,}"), first=True)
            return
        texts: dict[str, str] = {}
        errors: dict[str, str] = {}
        for column in columns:
            at = positions.get(column.key)
            try:
                texts[column.key] = _text(values[at] if at is not None and at < len(values) else None)
            except CellError as error:
                texts[column.key], errors[column.key] = "", str(error)
        yield number, texts, errors


def _chunks(items: Iterator, size: int = CHUNK) -> Iterator[list]:
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# ---- the walk ---------------------------------------------------------------------------

@dataclass
class _BoothPlan:
    booth_id: int | None
    number: str | None
    status: str
    created: bool
    obj: Booth | None = None  # made in this chunk's write, its id after the flush
    next_position: int | None = None  # where the next vacancy placed at it goes
    text: str = ""  # what the preview says of it


@dataclass
class _Parsed:
    row: Row
    code: str | None
    values: dict


class _Walk:
    """One walk over the file: checks, compares and (when `write`) writes each row. Writes go
    in a few flushes per chunk (not one per row), so the ORM's cost per row stays small."""

    def __init__(self, fair: Fair | None, zone: str, view: View, write: bool) -> None:
        self.fair, self.zone, self.view, self.write = fair, zone, view, write
        self.report = Report()
        self.digest = hashlib.sha256()
        self.employer_rows: dict[str, int] = {}  # credit code -> its row in 企业
        self.vacancy_rows: dict[tuple[str, str], int] = {}  # (code, title) -> its row in 岗位
        self.phones: dict[str, int] = {}  # new employers' phones -> row
        self.booths: dict[str, _BoothPlan] = {}  # credit code -> its booth at the fair
        self.taken: set[str] | None = None  # booth numbers in use at the fair
        self.matching = 0
        self.categories = _choices(CATEGORIES)
        self.education = _choices(EDUCATION)
        self.touched_booths: set[int] = set()
        self.placing = " · " + _("放入展位")
        self.next_n = 1
        # Labels as text once (each lazy label is a translation lookup when read).
        self.category_labels = {k: str(v) for k, v in CATEGORIES.items()}
        self.education_labels = {k: str(v) for k, v in EDUCATION.items()}

    # -- shared --

    def _finish_row(self, row: Row) -> None:
        if row.errors:
            row.action = ERROR
            headers = row.headers
            for key, message in row.errors.items():
                self.report.problem(row.sheet, row.number, headers.get(key, ""), message)
        self.report.counts[row.sheet][row.action] += 1
        self.digest.update(repr((row.sheet, row.number, row.action, row.changes, row.booth)).encode())
        view = self.view
        if row.sheet == view.sheet and view.show in ("all", row.action):
            first = (view.page - 1) * PAGE_SIZE
            if first <= self.matching < first + PAGE_SIZE:
                # A hostile cell may hold a megabyte: the page shows its start.
                row.shown = {k: v if len(v) <= 120 else v[:120] + "…" for k, v in row.shown.items()}
                self.report.rows.append(row)
            self.matching += 1

    def _known_booths(self, employers) -> None:
        """Load the fair's booths of these employers (the chunk's), once each."""
        if self.fair is None:
            return
        wanted = {e.id: e.credit_code for e in employers if e.credit_code not in self.booths}
        if not wanted:
            return
        for booth in db.session.scalars(select(Booth).where(Booth.fair_id == self.fair.id,
                                                            Booth.employer_id.in_(list(wanted)))):
            self.booths[wanted[booth.employer_id]] = self._with_text(
                _BoothPlan(booth.id, booth.number, booth.status, False))

    def _plan_booth(self, code: str, approved: bool) -> _BoothPlan | None:
        """The employer's booth at the chosen fair: the one it has (loaded by _known_booths),
        or a new one, numbered now (the same numbers in the preview and the import)."""
        if self.fair is None:
            return None
        plan = self.booths.get(code)
        if plan is None:
            plan = _BoothPlan(None, self._next_number() if approved else None,
                              "approved" if approved else "applied", True)
            self.booths[code] = self._with_text(plan)
            self.report.booths_new += 1
        return plan

    def _make_booth(self, plan: _BoothPlan, employer_id: int, made: list) -> None:
        """Writing: add the planned booth (its id comes with the chunk's next flush)."""
        if plan.booth_id is None and plan.obj is None:
            plan.obj = Booth(fair_id=self.fair.id, employer_id=employer_id, status=plan.status,
                             number=plan.number, decided_at=utcnow() if plan.status == "approved" else None)
            db.session.add(plan.obj)
            made.append(plan)

    def _settle(self, made: list) -> None:
        """After a flush: the booths made have their ids."""
        for plan in made:
            plan.booth_id, plan.obj, plan.next_position = plan.obj.id, None, 1
            self.touched_booths.add(plan.booth_id)
        made.clear()

    def _next_number(self) -> str:
        """The lowest free number of the zone after the last one given (gaps filled)."""
        if self.taken is None:
            self.taken = set(db.session.scalars(
                select(Booth.number).where(Booth.fair_id == self.fair.id, Booth.number.is_not(None))))
        while f"{self.zone}-{self.next_n:02d}" in self.taken:
            self.next_n += 1
        number = f"{self.zone}-{self.next_n:02d}"
        self.taken.add(number)
        return number

    @staticmethod
    def _with_text(plan: _BoothPlan) -> _BoothPlan:
        if plan.created:
            plan.text = _("新展位 %(n)s", n=plan.number) if plan.number else _("新展位（待企业通过审核后编号）")
        elif plan.status == "approved":
            plan.text = _("已有展位 %(n)s", n=plan.number)
        else:
            plan.text = _("已有展位申请") if plan.status == "applied" else _("已有展位（未通过）")
        return plan

    # -- 企业 --

    def employers(self, ws) -> None:
        for chunk in _chunks(_rows(ws, sheets.EMPLOYERS, self.report)):
            rows = [self._employer_row(number, texts, errors) for number, texts, errors in chunk]
            codes = [r.code for r in rows if r.code]
            existing = {e.credit_code: e for e in db.session.scalars(
                select(Employer).where(Employer.credit_code.in_(codes)))} if codes else {}
            self._known_booths(existing.values())
            phones = [r.values["contact_phone"] for r in rows if r.values.get("contact_phone")]
            logins = set(db.session.scalars(select(User.login).where(User.login.in_(phones)))) if phones else set()
            new: list[tuple[Employer, _Parsed]] = []
            made: list[_BoothPlan] = []
            for r in rows:
                employer = existing.get(r.code)
                self._compare_employer(r, employer, logins)
                self._finish_row(r.row)
                if self.write and not r.row.errors:
                    if employer is None:
                        employer = Employer(credit_code=r.code, status=APPROVED, approved_at=utcnow(), **r.values)
                        db.session.add(employer)
                        new.append((employer, r))
                    elif r.row.changes:
                        for key, value in r.values.items():
                            setattr(employer, key, value)
                        touch_employer(employer.id)
            if self.write:
                db.session.flush()  # the new employers' ids
                users = []
                for employer, r in new:
                    user = User(login=r.values["contact_phone"], name=r.values["contact_name"][:60],
                                role=EMPLOYER, employer_id=employer.id, active=False,
                                # No password until an organiser sends the login: "!" matches none.
                                password_hash="!")
                    db.session.add(user)
                    users.append((user, employer))
                made_here = {id(r): employer for employer, r in new}
                for r in rows:
                    plan = self.booths.get(r.code) if r.code and not r.row.errors else None
                    if plan is not None:
                        employer = existing.get(r.code) or made_here[id(r)]
                        self._make_booth(plan, employer.id, made)
                db.session.flush()
                self._settle(made)
                for user, employer in users:
                    db.session.add(ImportedLogin(user_id=user.id, employer_id=employer.id))
                # Written rows are then clean: the session holds them weakly, so memory does
                # not grow with the file.
                db.session.flush()

    def _employer_row(self, number: int, texts: dict, errors: dict) -> _Parsed:
        columns = {c.key: c for c in sheets.EMPLOYER_COLUMNS}
        values: dict = {}
        for key in ("name", "industry", "contact_name"):
            if key in errors:
                continue
            try:
                values[key] = _checked_text(texts[key], columns[key])
            except CellError as error:
                errors[key] = str(error)
        raw_code = texts.get("credit_code", "")
        code = normalise_credit_code(raw_code) if raw_code else None
        if "credit_code" not in errors:
            if not raw_code:
                errors["credit_code"] = _("请填写统一社会信用代码")
            elif code is None:
                errors["credit_code"] = _("应为 18 位，且校验位正确，请核对营业执照")
            elif code in self.employer_rows:
                errors["credit_code"] = _("与第 %(n)s 行是同一家企业（信用代码相同）", n=self.employer_rows[code])
        if "contact_phone" not in errors:
            raw_phone = texts.get("contact_phone", "")
            phone = normalise_phone(raw_phone) if raw_phone else None
            if not raw_phone:
                errors["contact_phone"] = _("请填写联系电话")
            elif phone is None:
                errors["contact_phone"] = _("请填写正确的 11 位手机号")
            else:
                values["contact_phone"] = phone
        for key in ("name", "contact_name"):
            if key not in errors and not values.get(key):
                errors[key] = _("必填")
        if code and code not in self.employer_rows:
            self.employer_rows[code] = number
        shown = {**texts, **values, "credit_code": code or texts.get("credit_code", "")}
        return _Parsed(Row(sheets.EMPLOYERS, number, shown, errors), code, values)

    def _compare_employer(self, parsed: _Parsed, employer: Employer | None, logins: set[str]) -> None:
        row, values = parsed.row, parsed.values
        if employer is None:
            phone = values.get("contact_phone")
            if phone and "contact_phone" not in row.errors:
                if phone in logins:
                    row.errors["contact_phone"] = _("这个手机号已是平台上另一个账号的登录名，"
                                                    "请换一个联系电话（它将是企业的登录账号）")
                elif phone in self.phones:
                    row.errors["contact_phone"] = _("与第 %(n)s 行的企业联系电话相同：每家企业的登录账号须不同",
                                                    n=self.phones[phone])
                else:
                    self.phones[phone] = row.number
            row.action = NEW
        else:
            for key, header in (("name", "企业名称"), ("industry", "所属行业"), ("contact_name", "联系人"),
                                ("contact_phone", "联系电话（手机）")):
                old = getattr(employer, key) or ""
                if key in values and values[key] != old:
                    row.changes.append((header, old, values[key]))
            row.action = CHANGED if row.changes else UNCHANGED
        if row.errors:
            return
        if employer is None:
            self.report.logins_new += 1
        plan = self._plan_booth(parsed.code, employer is None or employer.is_approved)
        if plan is not None:
            row.booth = plan.text

    # -- 岗位 --

    def vacancies(self, ws) -> None:
        for chunk in _chunks(_rows(ws, sheets.VACANCIES, self.report)):
            rows = [self._vacancy_row(number, texts, errors) for number, texts, errors in chunk]
            codes = list({r.code for r in rows if r.code})
            employers = {e.credit_code: e for e in db.session.scalars(
                select(Employer).where(Employer.credit_code.in_(codes)))} if codes else {}
            self._known_booths(employers.values())
            ids = [e.id for e in employers.values()]
            titles = list({r.values["title"] for r in rows if r.values.get("title")})
            existing: dict[tuple[int, str], Vacancy] = {}
            if ids and titles:
                for v in db.session.scalars(select(Vacancy).where(
                        Vacancy.employer_id.in_(ids), Vacancy.title.in_(titles)).order_by(Vacancy.id)):
                    existing.setdefault((v.employer_id, v.title), v)
            placed = self._placed(existing.values())
            placements: list[tuple[_BoothPlan, Vacancy]] = []
            changed: list[int] = []
            made: list[_BoothPlan] = []
            for r in rows:
                employer = employers.get(r.code)
                if r.code and employer is None and r.code not in self.employer_rows:
                    r.row.errors.setdefault("credit_code", _("平台上没有这家企业：请先在“企业”表中填写它，或核对信用代码"))
                vacancy = existing.get((employer.id, r.values.get("title"))) if employer else None
                plan, place = self._compare_vacancy(r, employer, vacancy, placed)
                self._finish_row(r.row)
                if not self.write or r.row.errors:
                    continue
                if vacancy is None:
                    vacancy = Vacancy(employer_id=employer.id, description="", **self._fields(r.values))
                    db.session.add(vacancy)
                elif r.row.changes:
                    for key, value in self._fields(r.values).items():
                        setattr(vacancy, key, value)
                    changed.append(vacancy.id)
                if place:
                    self._make_booth(plan, employer.id, made)
                    placements.append((plan, vacancy))
            if not self.write:
                continue
            db.session.flush()  # new vacancies' and booths' ids
            self._settle(made)
            for vacancy_id in changed:
                touch_booths_of_vacancy(vacancy_id)
            self._positions([plan for plan, _v in placements])
            for plan, vacancy in placements:
                db.session.add(BoothVacancy(booth_id=plan.booth_id, vacancy_id=vacancy.id,
                                            position=plan.next_position))
                plan.next_position += 1
                self.touched_booths.add(plan.booth_id)
            db.session.flush()

    def _positions(self, plans: list[_BoothPlan]) -> None:
        """Where vacancies placed at these (existing) booths go: after the ones there."""
        ids = list({p.booth_id for p in plans if p.next_position is None})
        if not ids:
            return
        last = dict(db.session.execute(
            select(BoothVacancy.booth_id, func.max(BoothVacancy.position))
            .where(BoothVacancy.booth_id.in_(ids)).group_by(BoothVacancy.booth_id)).all())
        for plan in plans:
            if plan.next_position is None:
                plan.next_position = (last.get(plan.booth_id) or 0) + 1

    def _placed(self, vacancies) -> set[tuple[int, int]]:
        """(booth id, vacancy id) already placed, of these vacancies at the fair's booths."""
        ids = [v.id for v in vacancies]
        if self.fair is None or not ids:
            return set()
        return {tuple(r) for r in db.session.execute(
            select(BoothVacancy.booth_id, BoothVacancy.vacancy_id).join(Booth, Booth.id == BoothVacancy.booth_id)
            .where(Booth.fair_id == self.fair.id, BoothVacancy.vacancy_id.in_(ids)))}

    def _vacancy_row(self, number: int, texts: dict, errors: dict) -> _Parsed:
        columns = {c.key: c for c in sheets.VACANCY_COLUMNS}
        values: dict = {}

        def take(key, parse):
            if key in errors:
                return
            try:
                values[key] = parse(texts.get(key, ""))
            except CellError as error:
                errors[key] = str(error)

        for key in ("title", "location", "shifts"):
            take(key, lambda raw, key=key: _checked_text(raw, columns[key]))
        if "title" in values and not values["title"]:
            errors["title"] = _("请填写岗位名称")

        def category(raw):
            if not raw:
                raise CellError(_("请选择工种"))
            code = _choice(raw, self.categories)
            if code is None:
                raise CellError(_("没有“%(v)s”这个工种，请从下拉列表中选择：%(all)s", v=raw[:20],
                                  all="、".join(sheets.category_labels())))
            return code

        def education(raw):
            if not raw:
                return ""
            code = _choice(raw, self.education)
            if code is None:
                raise CellError(_("没有“%(v)s”这个学历要求，请从下拉列表中选择：%(all)s", v=raw[:20],
                                  all="、".join(sheets.education_labels())))
            return code

        def benefits(raw):
            found = {"meals_lodging": False, "social_insurance": False}
            for word in _SPLIT_BENEFITS.split(raw):
                if not word or word in ("无", "没有"):
                    continue
                if word not in sheets.BENEFITS:
                    raise CellError(_("福利只能填“包吃住”“五险一金”（用顿号隔开），“%(v)s”不认识",
                                      v=word[:20]))
                found[sheets.BENEFITS[word]] = True
            return found

        def pay(raw):
            return _number(raw, PAY_MIN, PAY_MAX, lambda: _("月薪应在 %(lo)s–%(hi)s 元之间",
                                                            lo=f"{PAY_MIN:,}", hi=f"{PAY_MAX:,}"))

        def age(raw):
            return _number(raw, AGE_MIN, AGE_MAX, lambda: _("年龄应在 %(lo)s–%(hi)s 岁之间", lo=AGE_MIN, hi=AGE_MAX))

        take("category", category)
        take("education", education)
        take("benefits", benefits)
        take("headcount", lambda raw: _number(raw, 1, sheets.MAX_HEADCOUNT, lambda: _(
            "招聘人数应在 1–%(n)s 之间", n=f"{sheets.MAX_HEADCOUNT:,}")))
        take("pay_min", pay)
        take("pay_max", pay)
        take("age_min", age)
        take("age_max", age)
        for key in ("headcount", "pay_min", "pay_max"):
            if key not in errors and values.get(key) is None:
                errors[key] = {"headcount": _("请填写招聘人数"), "pay_min": _("请填写月薪下限"),
                               "pay_max": _("请填写月薪上限")}[key]
        if values.get("pay_min") is not None and values.get("pay_max") is not None \
                and values["pay_min"] > values["pay_max"]:
            errors["pay_max"] = _("月薪上限不能低于下限")
        if values.get("age_min") is not None and values.get("age_max") is not None \
                and values["age_min"] > values["age_max"]:
            errors["age_max"] = _("最高年龄不能低于最低年龄")

        raw_code = texts.get("credit_code", "")
        code = normalise_credit_code(raw_code) if raw_code else None
        if "credit_code" not in errors:
            if not raw_code:
                errors["credit_code"] = _("请填写企业的统一社会信用代码")
            elif code is None:
                errors["credit_code"] = _("应为 18 位，且校验位正确，请核对营业执照")
        title = values.get("title")
        if code and title:
            first = self.vacancy_rows.get((code, title))
            if first is not None:
                errors["title"] = _("与第 %(n)s 行重复：同一企业的同名岗位只能有一行", n=first)
            else:
                self.vacancy_rows[(code, title)] = number
        shown = dict(texts)
        shown["credit_code"] = code or raw_code
        if "category" in values:
            shown["category"] = self.category_labels[values["category"]]
        if "education" in values:
            shown["education"] = self.education_labels[values["education"]]
        if "benefits" in values:
            shown["benefits"] = "、".join(w for w, k in sheets.BENEFITS.items() if values["benefits"][k])
        return _Parsed(Row(sheets.VACANCIES, number, shown, errors), code, values)

    @staticmethod
    def _fields(values: dict) -> dict:
        out = {k: values[k] for k in ("title", "category", "headcount", "pay_min", "pay_max", "location",
                                      "shifts", "age_min", "age_max", "education")}
        out.update(values["benefits"])
        return out

    def _compare_vacancy(self, parsed: _Parsed, employer: Employer | None, vacancy: Vacancy | None,
                         placed: set[tuple[int, int]]) -> tuple[_BoothPlan | None, bool]:
        """Sets the row's action, changes and booth; returns its booth plan and whether the
        vacancy is to be placed there."""
        row = parsed.row
        if row.errors:
            return None, False
        fields = self._fields(parsed.values)
        if vacancy is None:
            row.action = NEW
        else:
            for key, value in fields.items():
                old = getattr(vacancy, key)
                if old != value:
                    row.changes.append((_VACANCY_HEADERS.get(key, key), _shown(old, key), _shown(value, key)))
            row.action = CHANGED if row.changes else UNCHANGED
        plan = self._plan_booth(parsed.code, employer is None or employer.is_approved)
        if plan is None:
            return None, False
        if vacancy is not None and plan.booth_id is not None and (plan.booth_id, vacancy.id) in placed:
            row.booth = plan.text
            return plan, False
        self.report.placements_new += 1
        row.booth = plan.text + self.placing
        return plan, True


_VACANCY_HEADERS = {**{c.key: c.header for c in sheets.VACANCY_COLUMNS},
                    "meals_lodging": "包吃住", "social_insurance": "五险一金"}


def _shown(value, key: str) -> str:
    if isinstance(value, bool):
        return "有" if value else "无"
    if value is None:
        return ""
    if key == "category":
        return str(CATEGORIES.get(value, value))
    if key == "education":
        return str(EDUCATION.get(value, value))
    return str(value)


def run_import(path: Path, *, fair: Fair | None = None, zone: str = "A", view: View | None = None,
               write: bool = False) -> Report:
    """Walk the file at `path`: check and compare every row; with `write`, also write them
    (inside the caller's transaction, which the caller rolls back unless the report is ok)."""
    walk = _Walk(fair, zone if zone in ZONES and len(zone) == 1 else "A", view or View(), write)
    report = walk.report
    try:
        workbook = _open(path)
    except FileProblem as problem:
        report.problem("", None, "", str(problem))
        return report
    try:
        names = set(workbook.sheetnames)
        if sheets.EMPLOYERS not in names and sheets.VACANCIES not in names:
            report.problem("", None, "", _("文件中没有“企业”或“岗位”表：请使用模板，不要改表名。"))
            return report
        try:
            if sheets.EMPLOYERS in names:
                walk.employers(workbook[sheets.EMPLOYERS])
            if sheets.VACANCIES in names:
                walk.vacancies(workbook[sheets.VACANCIES])
        except FileProblem as problem:
            report.problem("", None, "", str(problem), first=True)
            return report
    finally:
        workbook.close()
    if write and report.ok:
        if walk.touched_booths:
            db.session.execute(update(Booth).where(Booth.id.in_(list(walk.touched_booths)))
                               .values(version=Booth.version + 1))
        if walk.touched_booths and fair is not None:
            tallies.touch(f"fair:{fair.id}")
    report.matching = walk.matching
    report.digest = walk.digest.hexdigest()[:32]
    report.wrote = write and report.ok
    return report


def open_fairs() -> list[Fair]:
    """Fairs an import can place employers at: every fair not yet closed, soonest first."""
    return list(db.session.scalars(
        select(Fair).where(Fair.status != "closed").order_by(Fair.date, Fair.id)))


def get_open_fair(fair_id: int | None) -> Fair | None:
    if fair_id is None:
        return None
    fair = db.session.get(Fair, fair_id)
    return fair if fair is not None and fair.status != "closed" else None


# ---- sending an imported employer its login ---------------------------------------------

_PASSWORD_LETTERS = "abcdefghjkmnpqrstuvwxyz23456789"


def new_initial_password() -> str:
    """Ten letters and digits without look-alikes (l/1, o/0), read out over the phone."""
    return "".join(secrets.choice(_PASSWORD_LETTERS) for _ in range(10))
