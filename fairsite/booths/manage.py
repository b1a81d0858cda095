"""Organisers' side of booths: approve applications (numbering them in zones, or as typed),
reject them with a reason, renumber, and print every approved booth's poster at once."""
from __future__ import annotations

import re
import unicodedata

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from fairsite import events
from fairsite.accounts.models import ADMIN
from fairsite.accounts.service import organiser_roles
from fairsite.audit import service as audit
from fairsite.booths.models import Booth, BoothVacancy
from fairsite.booths.service import touch_booth
from fairsite.clock import utcnow
from fairsite.employers.models import Employer
from fairsite.extensions import db
from fairsite.fairs.service import get_fair
from fairsite.forms import clean_text
from fairsite.qr.service import qr_svg
from fairsite.sql import write_transaction
from fairsite.tallies import service as tallies
from fairsite.urls import public_url
from fairsite.vacancies.models import Vacancy
from fairsite.web import after_write, render, wants_fragment

bp = Blueprint("manage_booths", __name__)

ZONES = "ABCDEFGH"
_NUMBER = re.compile(r"([A-Z]{1,3})-?0*([0-9]{1,3})")
FILTERS = ("applied", "approved", "rejected", "all")


def normalise_number(raw: str) -> str | None:
    """'a12', 'Ａ－１２', 'A-012' -> 'A-12'; None if it is not zone letters and a number."""
    text = unicodedata.normalize("NFKC", raw or "").strip().upper().replace(" ", "")
    text = re.sub(r"[\u2010-\u2015\u2212_]", "-", text)
    match = _NUMBER.fullmatch(text)
    if not match or int(match.group(2)) == 0:
        return None
    return f"{match.group(1)}-{int(match.group(2)):02d}"


def _zone(raw: str | None) -> str:
    """One of the zone letters; "A" for anything else (a substring test would take "" or "AB")."""
    return raw if raw and len(raw) == 1 and raw in ZONES else "A"


def next_free_number(fair_id: int, zone: str) -> str:
    """The lowest free number in a zone of the fair (fills the gaps rejections leave)."""
    taken = set()
    for (number,) in db.session.execute(
        select(Booth.number).where(Booth.fair_id == fair_id, Booth.number.like(f"{zone}-%"))
    ):
        match = _NUMBER.fullmatch(number)
        if match and match.group(1) == zone:
            taken.add(int(match.group(2)))
    n = 1
    while n in taken:
        n += 1
    return f"{zone}-{n:02d}"


def holder_of(fair_id: int, number: str, except_booth: int) -> str | None:
    """The employer already at this booth number of the fair, if any."""
    return db.session.scalar(
        select(Employer.name).join(Booth, Booth.employer_id == Employer.id)
        .where(Booth.fair_id == fair_id, Booth.number == number, Booth.id != except_booth)
    )


def get_booth(booth_id: int) -> Booth:
    booth = db.session.get(Booth, booth_id)
    if booth is None:
        abort(404)
    return booth


def booth_stats(booth_ids) -> dict[int, tuple[int, int]]:
    """Vacancies and posts (headcount) placed at each booth."""
    if not booth_ids:
        return {}
    return {
        booth_id: (n, posts or 0)
        for booth_id, n, posts in db.session.execute(
            select(BoothVacancy.booth_id, func.count(), func.sum(Vacancy.headcount))
            .join(Vacancy, Vacancy.id == BoothVacancy.vacancy_id)
            .where(BoothVacancy.booth_id.in_(booth_ids), Vacancy.is_open.is_(True))
            .group_by(BoothVacancy.booth_id)
        )
    }


def _row(booth: Booth, error: str = "", status: int = 200):
    """The booth's row: the fragment for htmx, the whole list page otherwise."""
    if wants_fragment():
        return render("booths/manage_index.html", "booths/_manage_row.html", 200,
                      booth=booth, error=error, stats=booth_stats([booth.id]), zones=ZONES)
    return _index(booth.fair, "all", errors={booth.id: error} if error else {}, status=status)


def _index(fair, show: str, errors: dict | None = None, status: int = 200):
    query = (
        select(Booth).where(Booth.fair_id == fair.id).options(selectinload(Booth.employer))
        .order_by(Booth.number.is_(None).desc(), Booth.number, Booth.created_at)
    )
    counts = dict(db.session.execute(
        select(Booth.status, func.count()).where(Booth.fair_id == fair.id).group_by(Booth.status)
    ).all())
    if show != "all":
        query = query.where(Booth.status == show)
    booths = db.session.scalars(query).all()
    return render(
        "booths/manage_index.html", None, status, fair=fair, booths=booths, show=show,
        counts=counts, errors=errors or {}, stats=booth_stats([b.id for b in booths]),
        zones=ZONES,
    )


@bp.get("/manage/fairs/<int:fair_id>/booths")
@organiser_roles(ADMIN)
def index(fair_id: int):
    fair = get_fair(fair_id)
    show = request.args.get("show", "")
    if show not in FILTERS:
        show = "applied" if db.session.scalar(
            select(func.count()).select_from(Booth).where(Booth.fair_id == fair.id, Booth.status == "applied")
        ) else "all"
    return _index(fair, show)


def _decided(booth: Booth) -> None:
    """Inside the write: the booth page and the fair's board expire."""
    booth.decided_at = utcnow()
    touch_booth(booth.id)
    tallies.touch(f"fair:{booth.fair_id}")


@bp.post("/manage/booths/<int:booth_id>/approve")
@organiser_roles(ADMIN)
def approve(booth_id: int):
    typed = request.form.get("number", "").strip()
    zone = _zone(request.form.get("zone"))
    number = normalise_number(typed) if typed else None
    if typed and number is None:
        return _row(get_booth(booth_id), _("展位号格式应为“区号-编号”，例如 A-01"), 422)
    if not get_booth(booth_id).employer.is_approved:
        return _row(get_booth(booth_id), pending_employer_message(), 422)
    try:
        with write_transaction():
            booth = get_booth(booth_id)
            number = number or (booth.number if booth.status == "approved" else None) \
                or next_free_number(booth.fair_id, zone)
            holder = holder_of(booth.fair_id, number, booth.id)
            if holder:
                raise DuplicateNumber(number, holder)
            booth.status, booth.number, booth.reject_reason = "approved", number, ""
            _decided(booth)
            audit.record("booth.approve", "booth", booth.id,
                         f"{number} fair={booth.fair_id} employer={booth.employer_id}")
    except DuplicateNumber as dup:
        db.session.rollback()
        return _row(get_booth(booth_id), dup.message(), 422)
    except IntegrityError:
        # Two desks numbering at once: the unique constraint decided.
        db.session.rollback()
        return _row(get_booth(booth_id), _("展位号 %(n)s 刚被占用，请换一个", n=number), 422)
    events.fair_changed(booth.fair_id)
    return after_write(url_for("manage_booths.index", fair_id=booth.fair_id, show="all"),
                       "booths/_manage_row.html", booth=booth, error="",
                       stats=booth_stats([booth.id]), zones=ZONES)


def pending_employer_message() -> str:
    return _("这家企业还没有通过审核，展位申请暂不能批准。请先在“企业审核”中核对并通过这家企业。")


class DuplicateNumber(Exception):
    def __init__(self, number: str, holder: str):
        super().__init__(number)
        self.number, self.holder = number, holder

    def message(self) -> str:
        return _("展位号 %(n)s 已分配给“%(e)s”，同一场招聘会的展位号不能重复", n=self.number, e=self.holder)


@bp.post("/manage/booths/<int:booth_id>/reject")
@organiser_roles(ADMIN)
def reject(booth_id: int):
    reason = clean_text(request.form.get("reason") or "", 200)
    if not reason:
        return _row(get_booth(booth_id), _("请填写不通过的原因，企业会看到它"), 422)
    with write_transaction():
        booth = get_booth(booth_id)
        booth.status, booth.number, booth.reject_reason = "rejected", None, reason
        _decided(booth)
        audit.record("booth.reject", "booth", booth.id,
                     f"fair={booth.fair_id} employer={booth.employer_id} {reason}")
    events.fair_changed(booth.fair_id)
    return after_write(url_for("manage_booths.index", fair_id=booth.fair_id, show="all"),
                       "booths/_manage_row.html", booth=booth, error="",
                       stats=booth_stats([booth.id]), zones=ZONES)


@bp.post("/manage/fairs/<int:fair_id>/booths/approve-all")
@organiser_roles(ADMIN)
def approve_all(fair_id: int):
    """Approve every pending application, numbering them in a zone in order of application."""
    zone = _zone(request.form.get("zone"))
    with write_transaction():
        fair = get_fair(fair_id)
        pending = db.session.scalars(
            select(Booth).where(Booth.fair_id == fair.id, Booth.status == "applied")
            .order_by(Booth.created_at, Booth.id)
            .options(selectinload(Booth.employer))
        ).all()
        # Booths of employers still awaiting approval stay applied.
        waiting = [b for b in pending if not b.employer.is_approved]
        for booth in (b for b in pending if b.employer.is_approved):
            booth.number = next_free_number(fair.id, zone)
            booth.status, booth.reject_reason = "approved", ""
            _decided(booth)
            audit.record("booth.approve", "booth", booth.id,
                         f"{booth.number} fair={fair.id} employer={booth.employer_id} (all)")
            db.session.flush()
    events.fair_changed(fair.id)
    if waiting:
        flash(_("有 %(n)s 家企业还没有通过审核，它们的展位申请没有批准。请先在“企业审核”中通过这些企业。",
                n=len(waiting)), "error")
        return after_write(url_for("manage_booths.index", fair_id=fair.id, show="applied"))
    return after_write(url_for("manage_booths.index", fair_id=fair.id, show="approved"))


@bp.get("/manage/fairs/<int:fair_id>/posters")
@organiser_roles(ADMIN)
def posters(fair_id: int):
    """Every approved booth's A4 poster, then the fair's entrance poster: one print job."""
    fair = get_fair(fair_id)
    booths = db.session.scalars(
        select(Booth).where(Booth.fair_id == fair.id, Booth.status == "approved")
        .options(selectinload(Booth.employer), selectinload(Booth.vacancies))
        .order_by(Booth.number)
    ).all()
    # The entrance poster opens the check-in (签到), which leads on to the fair page.
    fair_url = public_url("checkins.checkin", fair_id=fair.id)
    return render(
        "booths/manage_posters.html", fair=fair, booths=booths, fair_url=fair_url,
        fair_qr=qr_svg(fair_url),
    )
