"""Organisers import employers and vacancies from a spreadsheet: download the template, upload
it filled, see the preview (every row as it will be stored, every error beside its row and
column), choose a fair to place them at, confirm; then send each new employer its login.

Access: organiser admins (管理员) only, like every other organiser page that writes employers'
data. The upload is kept under instance/imports/ by a random token until it is confirmed or
cancelled (fairsite/imports/service.py)."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from fairsite import events
from fairsite.accounts.models import ADMIN, User, hash_password
from fairsite.accounts.service import organiser_roles
from fairsite.audit.service import record
from fairsite.clock import utcnow
from fairsite.extensions import db
from fairsite.imports import service, sheets
from fairsite.imports.forms import ConfirmForm, UploadForm
from fairsite.imports.models import ImportedLogin
from fairsite.numbers import parse_id, parse_page
from fairsite.sql import write_transaction
from fairsite.urls import public_url
from fairsite.web import after_write, render

bp = Blueprint("manage_imports", __name__)


@bp.url_value_preprocessor
def _upload_limit(endpoint, _values) -> None:
    # Runs before any before_request hook (CSRF reads the form there): the upload is the one
    # request whose body may exceed MAX_CONTENT_LENGTH, up to IMPORT_MAX_BYTES.
    if endpoint == "manage_imports.upload" and request.method == "POST":
        request.max_content_length = current_app.config["IMPORT_MAX_BYTES"]
        # Werkzeug's multipart parser holds up to this much of the file while it looks for
        # the next boundary (a 64 KB cap refuses ordinary xlsx files of 200 KB).
        request.max_form_memory_size = 1024 * 1024


def _upload_or_404(token: str) -> service.Upload:
    upload = service.get_upload(token, current_user.id)
    if upload is None:
        abort(404)
    return upload


def _index(form: UploadForm, status: int = 200):
    return render("imports/index.html", None, status, form=form,
                  max_rows=service.max_rows(),
                  max_mb=current_app.config["IMPORT_MAX_BYTES"] // (1024 * 1024),
                  waiting=_waiting_logins())


def _waiting_logins() -> int:
    return len(db.session.scalars(select(ImportedLogin.user_id).where(ImportedLogin.sent_at.is_(None))).all())


@bp.get("/manage/imports")
@organiser_roles(ADMIN)
def index():
    return _index(UploadForm())


@bp.get("/manage/imports/template.xlsx")
@organiser_roles(ADMIN)
def template():
    body = sheets.template_workbook(service.max_rows())
    response = Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Content-Disposition"] = "attachment; filename=\"import-template.xlsx\"; " \
        "filename*=UTF-8''%E4%BC%81%E4%B8%9A%E5%B2%97%E4%BD%8D%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx"
    return response


@bp.post("/manage/imports")
@organiser_roles(ADMIN)
def upload():
    form = UploadForm()
    if not form.validate_on_submit():
        return _index(form, 422)
    file = form.file.data
    name = file.filename or ""
    if not name.lower().endswith(".xlsx"):
        form.file.errors.append(_("请上传 .xlsx 格式的表格（Excel 工作簿）。.xls 或 .csv 请先另存为 .xlsx。"))
        return _index(form, 422)
    token = service.store_upload(file.stream, name, current_user.id)
    return after_write(url_for("manage_imports.preview", token=token))


def _view() -> service.View:
    sheet = request.args.get("sheet", sheets.EMPLOYERS)
    if sheet not in sheets.COLUMNS:
        sheet = sheets.EMPLOYERS
    show = request.args.get("show", "all")
    if show not in service.SHOWS:
        show = "all"
    return service.View(sheet, show, parse_page(request.args.get("page")))


def _zone(raw: str | None) -> str:
    return raw if raw and len(raw) == 1 and raw in service.ZONES else "A"


def _preview(upload: service.Upload, fair, zone: str, status: int = 200):
    view = _view()
    report = service.run_import(upload.path, fair=fair, zone=zone, view=view)
    pages = max(1, -(-report.matching // service.PAGE_SIZE))
    form = ConfirmForm(data={"fair_id": fair.id if fair else "", "zone": zone, "digest": report.digest})
    return render("imports/preview.html", None, status, upload=upload, report=report, view=view,
                  pages=pages, fair=fair, zone=zone, fairs=service.open_fairs(), zones=service.ZONES,
                  form=form, columns=sheets.COLUMNS)


@bp.get("/manage/imports/<token>")
@organiser_roles(ADMIN)
def preview(token: str):
    upload = _upload_or_404(token)
    raw_fair = request.args.get("fair", "")
    fair = service.get_open_fair(parse_id(raw_fair)) if raw_fair else None
    if raw_fair and fair is None:
        flash(_("没有这场招聘会，或它已结束：请重新选择。"), "error")
    return _preview(upload, fair, _zone(request.args.get("zone")))


class _Refused(Exception):
    def __init__(self, report):
        super().__init__("import refused")
        self.report = report


@bp.post("/manage/imports/<token>/confirm")
@organiser_roles(ADMIN)
def confirm(token: str):
    upload = _upload_or_404(token)
    form = ConfirmForm()
    raw_fair = (form.fair_id.data or "").strip()
    fair = service.get_open_fair(parse_id(raw_fair)) if raw_fair else None
    zone = _zone(form.zone.data)
    if raw_fair and fair is None:
        flash(_("没有这场招聘会，或它已结束：请重新选择。"), "error")
        return _preview(upload, None, zone, 422)
    try:
        with write_transaction():
            report = service.run_import(upload.path, fair=fair, zone=zone, write=True)
            if not report.ok or report.digest != (form.digest.data or ""):
                raise _Refused(report)
            record("import.confirm", "fair" if fair else None, fair.id if fair else None,
                   f"{upload.name}: 企业 新{report.counts[sheets.EMPLOYERS]['new']} "
                   f"改{report.counts[sheets.EMPLOYERS]['changed']}, 岗位 新{report.counts[sheets.VACANCIES]['new']} "
                   f"改{report.counts[sheets.VACANCIES]['changed']}, 展位 新{report.booths_new}, "
                   f"放入 {report.placements_new}")
    except IntegrityError:
        # Someone else wrote the same employer or login at the same moment (PostgreSQL lets
        # both transactions run; the unique constraints decide).
        db.session.rollback()
        flash(_("预览之后数据有了变化（可能有人同时修改了企业或岗位）：请核对下面最新的预览后再确认导入。"), "error")
        return _preview(upload, fair, zone, 409)
    except _Refused as refused:
        if refused.report.ok:
            flash(_("预览之后数据有了变化（可能有人同时修改了企业或岗位）：请核对下面最新的预览后再确认导入。"), "error")
        else:
            flash(_("表格中还有错误，没有导入任何内容。请改正后重新上传。"), "error")
        return _preview(upload, fair, zone, 409 if refused.report.ok else 422)
    service.discard_upload(token)
    if fair is not None:
        events.fair_changed(fair.id)
    e, v = report.counts[sheets.EMPLOYERS], report.counts[sheets.VACANCIES]
    flash(_("导入完成：企业新增 %(en)s 家、更新 %(ec)s 家；岗位新增 %(vn)s 个、更新 %(vc)s 个；"
            "新建展位 %(b)s 个，放入展位的岗位 %(p)s 个。", en=e[service.NEW], ec=e[service.CHANGED],
            vn=v[service.NEW], vc=v[service.CHANGED], b=report.booths_new, p=report.placements_new), "ok")
    if report.logins_new:
        flash(_("新企业的账号 %(n)s 个已建好，暂未启用：请在下面逐个发送登录信息。", n=report.logins_new), "ok")
    return after_write(url_for("manage_imports.logins"))


@bp.post("/manage/imports/<token>/cancel")
@organiser_roles(ADMIN)
def cancel(token: str):
    _upload_or_404(token)
    service.discard_upload(token)
    flash(_("已取消这次导入，上传的文件已删除。"), "ok")
    return after_write(url_for("manage_imports.index"))


# ---- the logins an import made ------------------------------------------------------------

@bp.get("/manage/imports/logins")
@organiser_roles(ADMIN)
def logins():
    rows = db.session.scalars(
        select(ImportedLogin).options(selectinload(ImportedLogin.user), selectinload(ImportedLogin.employer))
        .order_by(ImportedLogin.sent_at.is_not(None), ImportedLogin.created_at.desc(), ImportedLogin.user_id)
        .limit(1000)
    ).all()
    return render("imports/logins.html", rows=rows)


@bp.post("/manage/imports/logins/<int:user_id>/send")
@organiser_roles(ADMIN)
def send_login(user_id: int):
    """Switch an imported employer's login on with a new initial password, shown once here to
    print or read out; the person must choose their own at first log-in. The answer is the
    slip itself, not a redirect: the password is kept nowhere to be shown again."""
    password = service.new_initial_password()
    password_hash = hash_password(password)  # before the write: it takes a while
    with write_transaction():
        imported = db.session.get(ImportedLogin, user_id)
        if imported is None:
            abort(404)
        user = db.session.get(User, user_id, populate_existing=True)
        first = imported.sent_at is None
        user.password_hash = password_hash
        user.must_change_password = True
        user.active = True
        user.end_sessions()
        imported.sent_at, imported.sent_by_id = utcnow(), current_user.id
        record("account.login_sent", "user", user.id, imported.employer.name)
        employer, login, name = imported.employer.name, user.login, user.name
    return render("imports/slip.html", employer=employer, login=login, name=name, password=password,
                  first=first, login_url=public_url("accounts.login"))
