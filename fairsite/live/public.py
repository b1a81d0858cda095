"""Live sessions (直播带岗), for viewers: the page beside the video with the job presented now,
the running order and live counts; its SSE stream; the polling fallback (ETag/304); the short
link and QR code a host reads out.

The intent button on the broadcast card: the card is rendered once per change for everyone
(fairsite.events), so it always carries the plain "我有意向" button, with an empty CSRF field
(htmx sends each viewer's own token in a header). Its per-device state is not rendered into
the stream: tapping it posts to intents.sign, which answers idempotently with "已登记 ✓" (a
second tap never signs twice), or with the one-time form on a new phone. A page load and the
polling fallback (each a request of that viewer) render the button's real state. While a viewer
fills in the one-time form, a new card waits (show.html) so no typing is lost."""
from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, url_for

from fairsite import pubsub, sse
from fairsite.events import prime_live
from fairsite.extensions import db
from fairsite.live import service
from fairsite.live.models import LiveSession
from fairsite.live.service import viewer_url
from fairsite.qr.service import qr_png
from fairsite.web import render, unless_modified

bp = Blueprint("live", __name__)


def public_session(session_id: int) -> LiveSession:
    """A session the public may see (LiveSession.is_public); a 404 otherwise."""
    session = db.session.get(LiveSession, session_id)
    if session is None or not session.is_public:
        abort(404)
    return session


@bp.get("/l/<int:session_id>")
def short(session_id: int):
    """The short link printed under the QR code and read out by the host."""
    public_session(session_id)
    return redirect(url_for("live.show", session_id=session_id), code=302)


@bp.get("/live/<int:session_id>/qr.png")
def qr(session_id: int):
    session = public_session(session_id)
    response = Response(qr_png(viewer_url(session)), mimetype="image/png")
    response.headers["Content-Disposition"] = f'inline; filename="live-{session.id}.png"'
    return response


@bp.get("/live/<int:session_id>")
def show(session_id: int):
    session = public_session(session_id)
    return render("live/show.html", **service.viewer_context(session), **service.stream_context(session),
                  viewer_url=viewer_url(session), etag=service.etag(session.id))


@bp.get("/live/<int:session_id>/events")
def events(session_id: int):
    """The viewer's SSE stream: the current shared fragments first, then every change. No
    database access after this point; the fragments were rendered once, by whoever changed
    the state (or once per process after a restart, in prime)."""
    # One indexed read per connection (none per message): a session taken down, or never
    # public, is refused.
    if service.etag(session_id) is None:
        abort(404)
    channel = service.channel(session_id)
    current = pubsub.retained(channel)
    if current is None:
        # First viewer of this session in this process since it started: render once.
        prime_live(public_session(session_id))
        current = pubsub.retained(channel)
    return sse.stream(channel, current or ())


@bp.get("/live/<int:session_id>/board")
def board(session_id: int):
    """The polling fallback: the whole board, or 304 when nothing changed. The ETag is read
    from two version numbers before anything is rendered."""
    tag = service.etag(session_id)
    if tag is None:
        abort(404)
    def build():
        session = public_session(session_id)
        return render("live/show.html", "live/_board.html", **service.viewer_context(session),
                      viewer_url=viewer_url(session), etag=tag)

    return unless_modified(tag, build)
