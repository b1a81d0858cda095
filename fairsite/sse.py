"""Server-Sent Event streams: a comment at once, a heartbeat, clean-up when the viewer goes.
The generator never touches the database; the session is closed before streaming."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache

from flask import Response, current_app

from fairsite import pubsub
from fairsite.extensions import db


@lru_cache(maxsize=64)
def _encoded(message: str) -> bytes:
    """A message is one str object handed to every subscriber: encode it once, not once per
    viewer (the str caches its own hash, so the lookup is cheap)."""
    return message.encode()


def stream(channel: str, initial: Iterable[str] = ()) -> Response:
    """An SSE response carrying `channel`'s events; `initial` are pre-formatted messages
    (pubsub.format_sse) sent first, e.g. the current state."""
    heartbeat = float(current_app.config["SSE_HEARTBEAT"])
    sub = pubsub.subscribe(channel)
    first = list(initial)
    # Give the connection back before a stream that may last hours.
    db.session.remove()

    def generate() -> Iterator[str]:
        try:
            yield b": connected\n\n"
            for message in first:
                yield _encoded(message)
            while True:
                message = sub.get(timeout=heartbeat)
                yield _encoded(message) if message is not None else b": heartbeat\n\n"
        finally:
            sub.close()

    response = Response(generate(), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response

