"""Live sessions (直播带岗), for the staff who run them: organisers (every session) and
employer staff (their employer's own). Create and edit a session, keep its running order, and
run it from the host console (start, now presenting, end). Each write goes through
fairsite.live.service; what viewers receive goes out through fairsite.events after it."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from fairsite import events, pubsub, sse
from fairsite.accounts.models import ADMIN
from fairsite.accounts.service import organiser_roles, staff_roles
from fairsite.clock import CST, utcnow
from fairsite.employers.models import APPROVED, Employer
from fairsite.extensions import db
from fairsite.fairs.models import PUBLIC_STATUSES, Fair
from fairsite.forms import clean_text
from fairsite.live import service
from fairsite.live.forms import LiveSessionForm, PlatformsForm
from fairsite.live.models import LiveItem, LiveSession
from fairsite.live.service import viewer_url
from fairsite.numbers import parse_id
from fairsite.qr.service import qr_svg
from fairsite.vacancies.models import Vacancy
from fairsite.web import after_write, is_htmx, render

bp = Blueprint("manage_live", __name__)

# --- access -------------------------------------------------------------------------------


def _employer_scope() -> int | None:
    """None for organisers (every session); the employer's id for employer staff."""
    return None if current_user.is_organiser else current_user.employer_id


def staff_session(session_id: int) -> LiveSession:
    """A session the logged-in staff member may run; anything else is a 404."""
    session = db.session.get(LiveSession, session_id)
    if session is None:
        abort(404)
    scope = _employer_scope()
    if scope is not None and session.employer_id != scope:
        abort(404)
    return session


# --- staff: list, create, edit, running order ----------------------------------------------


@bp.get("/live/manage")
@staff_roles(organiser=(ADMIN,), employer=(ADMIN,))
def index():
    query = (select(LiveSession).options(selectinload(LiveSession.employer))  # is_public
             .order_by(LiveSession.scheduled_at.desc(), LiveSession.id.desc()))
    scope = _employer_scope()
    if scope is not None:
        query = query.where(LiveSession.employer_id == scope)
    return render("live/index.html", sessions=db.session.scalars(query).all(),
                  status_labels=service.STATUS_LABELS)


def _form(session: LiveSession | None) -> LiveSessionForm:
    form = LiveSessionForm(obj=session)
    form.allowed_hosts = service.allowed_hosts()
    query = select(Fair.id, Fair.title).order_by(Fair.date.desc())
    if _employer_scope() is not None:  # employers see the fairs the public sees
        query = query.where(Fair.status.in_(PUBLIC_STATUSES))
    fairs = db.session.execute(query).all()
    form.fair_id.choices = [(0, _("不属于某场招聘会"))] + [(f.id, f.title) for f in fairs]
    if _employer_scope() is not None:
        del form.campaign_id  # campaigns are the bureau's
    if request.method == "GET" and session is not None:
        form.fair_id.data = session.fair_id or 0
        if session.scheduled_at:
            form.scheduled_at.data = session.scheduled_at + CST
    return form


def _form_data(form: LiveSessionForm) -> dict:
    return dict(
        title=form.title.data,
        host_name=form.host_name.data or "",
        fair_id=form.fair_id.data or None,
        # The form speaks Beijing time; the database holds naive UTC.
        scheduled_at=form.scheduled_at.data - CST if form.scheduled_at.data else None,
        stream_url=form.stream_url.data or "",
        description=form.description.data or "",
        **({"campaign_id": form.campaign_id.data or None} if "campaign_id" in form else {}),
    )


@bp.route("/live/new", methods=["GET", "POST"])
@staff_roles(organiser=(ADMIN,), employer=(ADMIN,))
def create():
    form = _form(None)
    if form.validate_on_submit():
        session = LiveSession(created_by_id=current_user.id, employer_id=_employer_scope(),
                              status="scheduled", created_at=utcnow())
        if service.save_details(session, _form_data(form)):
            events.live_changed(session.id)
        flash(_("直播已创建，请添加要介绍的岗位。"), "ok")
        return redirect(url_for("manage_live.edit", session_id=session.id), code=303)
    return render("live/form.html", form=form, s=None)


def _edit_context(session: LiveSession, q: str = "") -> dict:
    return dict(s=session, items=service.order(session.id), candidates=_candidates(session, q),
                q=q, embed=service.embed_url(session.stream_url), status_labels=service.STATUS_LABELS)


@bp.route("/live/<int:session_id>/edit", methods=["GET", "POST"])
@staff_roles(organiser=(ADMIN,), employer=(ADMIN,))
def edit(session_id: int):
    session = staff_session(session_id)
    form = _form(session)
    if form.validate_on_submit():
        if service.save_details(session, _form_data(form)):
            events.live_changed(session.id)
        flash(_("已保存。"), "ok")
        return redirect(url_for("manage_live.edit", session_id=session.id), code=303)
    return render("live/form.html", form=form, **_edit_context(session))


def _candidates(session: LiveSession, q: str) -> list:
    """Open vacancies that may join the running order: the employer's own for an employer's
    session; for an organiser's, any (those at the session's fair first)."""
    placed = select(LiveItem.vacancy_id).where(LiveItem.session_id == session.id)
    query = (
        select(Vacancy, Employer.name)
        .join(Employer, Employer.id == Vacancy.employer_id)
        .where(Vacancy.is_open.is_(True), Vacancy.id.not_in(placed))
    )
    if session.employer_id is not None:
        query = query.where(Vacancy.employer_id == session.employer_id)
    else:  # an organiser's session is public: no vacancy of an employer not yet approved
        query = query.where(Employer.status == APPROVED)
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        query = query.where(or_(Vacancy.title.ilike(like), Employer.name.ilike(like)))
    return db.session.execute(query.order_by(Vacancy.id).limit(20)).all()


@bp.get("/live/<int:session_id>/candidates")
@staff_roles(organiser=(ADMIN,), employer=(ADMIN,))
def candidates(session_id: int):
    session = staff_session(session_id)
    q = clean_text(request.args.get("q") or "", 50)
    return render("live/form.html", "live/_candidates.html", form=_form(session),
                  **_edit_context(session, q))


def _write(session: LiveSession, write) -> str:
    """Run a live write; after its commit, viewers get what changed. Returns the refusal's
    message for the person (service.LiveError), or ""."""
    try:
        if write():
            events.live_changed(session.id)
    except service.LiveError as e:
        return str(e)
    return ""


def _items_answer(session: LiveSession, error: str = ""):
    if error and not is_htmx():  # htmx shows it in the fragment; a plain form after the redirect
        flash(error, "error")
    return after_write(url_for("manage_live.edit", session_id=session.id), "live/_items.html",
                       error=error, **_edit_context(session))


@bp.post("/live/<int:session_id>/items")
@staff_roles(organiser=(ADMIN,), employer=(ADMIN,))
def add_item(session_id: int):
    session = staff_session(session_id)
    vacancy = db.session.get(Vacancy, parse_id(request.form.get("vacancy_id")) or 0)
    if vacancy is None or not vacancy.is_open or (
        session.employer_id is not None and vacancy.employer_id != session.employer_id
    ) or (session.employer_id is None and not vacancy.employer.is_approved):
        abort(404)
    return _items_answer(session, _write(session, lambda: service.add_item(session.id, vacancy.id)))


@bp.post("/live/<int:session_id>/items/<int:vacancy_id>/remove")
@staff_roles(organiser=(ADMIN,), employer=(ADMIN,))
def remove_item(session_id: int, vacancy_id: int):
    session = staff_session(session_id)
    return _items_answer(session, _write(session, lambda: service.remove_item(session.id, vacancy_id)))


@bp.post("/live/<int:session_id>/items/<int:vacancy_id>/move")
@staff_roles(organiser=(ADMIN,), employer=(ADMIN,))
def move_item(session_id: int, vacancy_id: int):
    session = staff_session(session_id)
    delta = -1 if request.form.get("direction") == "up" else 1
    return _items_answer(session, _write(session, lambda: service.move_item(session.id, vacancy_id, delta)))


# --- the host console ---------------------------------------------------------------------



def _console_context(session: LiveSession, error: str = "") -> dict:
    db.session.refresh(session)
    return dict(
        s=session, items=service.order(session.id), counts=service.counts(session.id),
        viewers=sum(pubsub.total_subscriber_count(c) for c in service.viewer_channels(session.id)),
        error=error, status_labels=service.STATUS_LABELS, viewer_url=viewer_url(session),
    )


@bp.get("/live/<int:session_id>/host")
@staff_roles(organiser=(ADMIN,), employer=(ADMIN,))
def host(session_id: int):
    session = staff_session(session_id)
    return render("live/host.html", "live/_console.html",
                  qr=qr_svg(viewer_url(session)), **_console_context(session))


@bp.get("/live/<int:session_id>/host/events")
@staff_roles(organiser=(ADMIN,), employer=(ADMIN,))
def host_events(session_id: int):
    session = staff_session(session_id)
    return sse.stream(service.host_channel(session.id))


def _console_answer(session: LiveSession, error: str = ""):
    if error and not is_htmx():  # htmx shows it in the fragment; a plain form after the redirect
        flash(error, "error")
    return after_write(url_for("manage_live.host", session_id=session.id), "live/_console.html",
                       **_console_context(session, error))


@bp.post("/live/<int:session_id>/start")
@staff_roles(organiser=(ADMIN,), employer=(ADMIN,))
def start(session_id: int):
    session = staff_session(session_id)
    return _console_answer(session, _write(session, lambda: service.start(session.id)))


@bp.post("/live/<int:session_id>/end")
@staff_roles(organiser=(ADMIN,), employer=(ADMIN,))
def end(session_id: int):
    session = staff_session(session_id)
    return _console_answer(session, _write(session, lambda: service.end(session.id)))


@bp.post("/live/<int:session_id>/present")
@staff_roles(organiser=(ADMIN,), employer=(ADMIN,))
def present(session_id: int):
    """Now presenting: `vacancy_id`, or `step` = next / prev along the running order."""
    session = staff_session(session_id)
    step = {"next": 1, "prev": -1}.get(request.form.get("step", ""), 0)
    vacancy_id = parse_id(request.form.get("vacancy_id"))
    if vacancy_id is None and step == 0:
        abort(400)
    return _console_answer(session, _write(session, lambda: service.present(session.id, vacancy_id, step)))


# --- organisers: take a session down, the video platforms ------------------------------------


@bp.post("/live/<int:session_id>/take-down")
@organiser_roles(ADMIN)
def take_down(session_id: int):
    """下线: the session leaves the public site (viewer page, stream, polling, signing)."""
    session = staff_session(session_id)
    if service.take_down(session.id, True):
        # Viewers still connected get the "已下线" card; new ones get a 404.
        events.live_changed(session.id)
    flash(_("“%(t)s”已下线，观众看不到这场直播了。", t=session.title), "ok")
    return after_write(url_for("manage_live.index"))


@bp.post("/live/<int:session_id>/bring-back")
@organiser_roles(ADMIN)
def bring_back(session_id: int):
    session = staff_session(session_id)
    if service.take_down(session.id, False):
        events.live_changed(session.id)
    flash(_("“%(t)s”已重新上线。", t=session.title), "ok")
    return after_write(url_for("manage_live.index"))


@bp.route("/live/manage/platforms", methods=["GET", "POST"])
@organiser_roles(ADMIN)
def platforms():
    """The video platforms stream links may go to: one host name a line."""
    form = PlatformsForm()
    if form.validate_on_submit():
        service.save_allowed_hosts(form.host_list)
        flash(_("已保存，共 %(n)s 个平台域名。", n=len(form.host_list)), "ok")
        return after_write(url_for("manage_live.platforms"))
    if not form.is_submitted():
        form.hosts.data = "\n".join(sorted(service.allowed_hosts()))
    status = 422 if form.errors else 200
    return render("live/platforms.html", None, status, form=form)
