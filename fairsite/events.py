"""What happened, told to whoever watches, after the transaction that did it has committed.
Every event of the site goes out from here (views call these, never pubsub directly):

- intent_changed: tally boards re-fetch, the employer's list fetches its new rows, a live
  session's viewers get new counts (at most once a second);
- fair_changed: open tally boards of the fair re-fetch;
- live_changed: a live session's shared fragments are rendered ONCE and sent to every viewer
  (retained for viewers who connect later); host consoles re-fetch.
"""
from __future__ import annotations

import threading
import time

from flask import Flask, current_app, has_request_context, request
from flask_babel import force_locale

from fairsite import pubsub
from fairsite.extensions import db
from fairsite.i18n import LOCALES
from fairsite.live import service as live
from fairsite.live.models import LiveSession


def intent_changed(
    fair_id: int | None, live_session_id: int | None = None, employer_id: int | None = None
) -> None:
    """An intent was signed, withdrawn, erased or moved on: boards, lists and counts follow."""
    if fair_id:
        fair_changed(fair_id)
    if employer_id:
        pubsub.publish(f"employer:{employer_id}", "intents")
    if live_session_id:
        _live_counts_changed(live_session_id)


def fair_changed(fair_id: int) -> None:
    """Tally boards re-fetch their fragment (a handful of organisers; ETag makes it cheap)."""
    pubsub.publish(f"fair:{fair_id}", "tally")


# --- live sessions: rendered once, sent to all ----------------------------------------------

def _base_url() -> str | None:
    """Host and script root of the request that caused a change, so URLs come out right."""
    return request.host_url.rstrip("/") + request.script_root if has_request_context() else None


def _rendering(app: Flask, base: str | None):
    """A request context of its own for the fragments every viewer shares: nothing of the
    request (or thread) that caused the change leaks into them."""
    return app.test_request_context("/", base_url=base)


def live_changed(session_id: int) -> None:
    """After a commit that changed what viewers see: render once, send to all."""
    db.session.expire_all()
    session = db.session.get(LiveSession, session_id)
    if session is None:
        return
    # Once per language (each viewer listens on the channel of theirs).
    for locale in LOCALES:
        with _rendering(current_app, _base_url()), force_locale(locale):
            state = live.render_state(session)
        # One message carrying the three events: one wake-up and one write per viewer.
        pubsub.publish_many(live.channel(session_id, locale), list(state.items()), retain=True)
    pubsub.publish(live.host_channel(session_id), "tally")


def prime_live(session: LiveSession) -> None:
    """Make sure this process can hand new subscribers the current state (after a restart,
    before any change): rendered once per process, not per viewer."""
    for locale in LOCALES:
        if pubsub.retained(live.channel(session.id, locale)):
            continue
        with _rendering(current_app, _base_url()), force_locale(locale):
            state = live.render_state(session)
        for event, html in state.items():
            pubsub.keep_local(live.channel(session.id, locale), event, html)


# Counts go out at most once a second per session and process: at a viral moment dozens of
# people sign each second, and each publish is a delivery to every viewer.
class _CountsThrottle:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last: dict[int, float] = {}
        self.pending: set[int] = set()


def _throttle() -> _CountsThrottle:
    return current_app.extensions.setdefault("fairsite.live_counts", _CountsThrottle())


def _live_counts_changed(session_id: int) -> None:
    """Publishes the session's new counts now, or, if they went out less than
    LIVE_COUNTS_EVERY seconds ago, once more when that time is up (reading the counts then,
    so nothing is lost)."""
    every = float(current_app.config["LIVE_COUNTS_EVERY"])
    state = _throttle()
    now = time.monotonic()
    with state.lock:
        if session_id in state.pending:
            return  # a publish is already due; it will read the newest counts
        wait = state.last.get(session_id, now - every) + every - now
        if wait > 0:
            state.pending.add(session_id)
        else:
            state.last[session_id] = now
    app, base = current_app._get_current_object(), _base_url()
    if wait <= 0:
        _publish_counts(app, session_id, base)
        return

    def later() -> None:
        with app.app_context():
            with state.lock:
                state.pending.discard(session_id)
                state.last[session_id] = time.monotonic()
            try:
                _publish_counts(app, session_id, base)
            finally:
                db.session.remove()

    timer = threading.Timer(wait, later)
    timer.daemon = True
    timer.start()


def _publish_counts(app: Flask, session_id: int, base: str | None) -> None:
    session = db.session.get(LiveSession, session_id)
    if session is None:
        return
    for locale in LOCALES:
        with _rendering(app, base), force_locale(locale):
            html = live.render_counts(session)
        pubsub.publish(live.channel(session_id, locale), "counts", html, retain=True)
    pubsub.publish(live.host_channel(session_id), "tally")
