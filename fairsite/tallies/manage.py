"""The organiser's tally board (a page, its fragment, and its event stream) and the day's
report (a printable page and an .xlsx file)."""
from __future__ import annotations

import time

from flask import Blueprint, send_file

from fairsite import sse
from fairsite.accounts.models import ADMIN, DESK, VIEWER
from fairsite.accounts.service import organiser_roles
from fairsite.fairs.service import get_fair
from fairsite.tallies import board as boards
from fairsite.tallies import report as reports
from fairsite.tallies import service as tallies
from fairsite.web import download_name, render, unless_modified

bp = Blueprint("manage_tallies", __name__)

# Besides the counters, the board shows the fair's offer (booths, posts, pay), which changes
# without an intent: the ETag also turns over every minute, so such a change shows within one.
ETAG_PERIOD = 60


def _etag(fair_id: int, version: int) -> str:
    return f"tally-{fair_id}-{version}-{int(time.time() // ETAG_PERIOD)}"


@bp.get("/manage/fairs/<int:fair_id>/board")
@organiser_roles(ADMIN, DESK, VIEWER)
def board(fair_id: int):
    fair = get_fair(fair_id)
    return render("tallies/board.html", board=boards.build(fair), fair=fair)


@bp.get("/manage/fairs/<int:fair_id>/board/tally")
@organiser_roles(ADMIN, DESK, VIEWER)
def tally(fair_id: int):
    """The board's numbers. The version is read before anything else, so an unchanged board
    costs one indexed row and a 304."""
    version = tallies.version(f"fair:{fair_id}")
    etag = _etag(fair_id, version)

    def build():
        fair = get_fair(fair_id)
        return render("tallies/board.html", "tallies/_tally.html",
                      board=boards.build(fair, version), fair=fair)

    return unless_modified(etag, build)


@bp.get("/manage/fairs/<int:fair_id>/board/stream")
@organiser_roles(ADMIN, DESK, VIEWER)
def stream(fair_id: int):
    """Server-Sent Events: "tally" whenever the fair's counters move."""
    get_fair(fair_id)
    return sse.stream(f"fair:{fair_id}")


@bp.get("/manage/fairs/<int:fair_id>/report")
@organiser_roles(ADMIN, VIEWER)
def report(fair_id: int):
    fair = get_fair(fair_id)
    return render("tallies/report.html", fair=fair, report=reports.build(fair))


@bp.get("/manage/fairs/<int:fair_id>/report.xlsx")
@organiser_roles(ADMIN, VIEWER)
def report_xlsx(fair_id: int):
    fair = get_fair(fair_id)
    data = reports.build(fair)
    return send_file(
        reports.to_xlsx(data),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=download_name(f"{fair.date:%Y%m%d}-{fair.title[:40]}-统计报表", "xlsx"),
        max_age=0,
    )
