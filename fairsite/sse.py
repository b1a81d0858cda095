"""Server-Sent Event streams: a comment at once, a heartbeat, clean-up when the viewer goes.
The generator never touches the database; the session is closed before streaming."""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from flask import Response, current_app, stream_with_context

from fairsite import pubsub
from fairsite.extensions import db


def stream(channel: str, initial: Iterable[str] = ()) -> Response:
    """An SSE response carrying `channel`'s events; `initial` are pre-formatted messages
    (pubsub.format_sse) sent first, e.g. the current state."""
    heartbeat = float(current_app.config.get("SSE_HEARTBEAT", 15))
    sub = pubsub.subscribe(channel)
    first = list(initial)
    # Give the connection back before a stream that may last hours.
    db.session.remove()

    def generate() -> Iterator[str]:
        try:
            yield ": connected\n\n"
            yield from first
            while True:
                message = sub.get(timeout=heartbeat)
                yield message if message is not None else ": heartbeat\n\n"
        finally:
            sub.close()

    response = Response(generate(), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response


__all__ = ["stream", "stream_with_context"]
