"""Server-Sent Event streams: a comment at once, a heartbeat, clean-up when the viewer goes.
The generator never touches the database; the session is closed before streaming. One client
address holds at most SSE_STREAMS_PER_ADDRESS streams of a process; past it, a 429."""
from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from functools import lru_cache

from flask import Response, current_app, request
from flask_babel import gettext as _

from fairsite import pubsub
from fairsite.extensions import db


class StreamSlots:
    """Open streams by client address, in this process (one per app, in app.extensions).

    With several processes (the Redis tier) an address may hold the cap in each of them; one
    cap for the whole site would need a Redis counter per address (INCR on open, DECR on
    close, with an expiry each heartbeat renews, so that a process that died does not keep
    its streams counted)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open: Counter[str] = Counter()

    def take(self, address: str, cap: int) -> bool:
        with self.lock:
            if cap and self.open[address] >= cap:
                return False
            self.open[address] += 1
            return True

    def give(self, address: str) -> None:
        with self.lock:
            self.open[address] -= 1
            if self.open[address] <= 0:
                del self.open[address]


def _slots() -> StreamSlots:
    return current_app.extensions.setdefault("fairsite.sse_slots", StreamSlots())


@lru_cache(maxsize=64)
def _encoded(message: str) -> bytes:
    """A message is one str object handed to every subscriber: encode it once, not once per
    viewer (the str caches its own hash, so the lookup is cheap)."""
    return message.encode()


def stream(channel: str, initial: Iterable[str] = ()) -> Response:
    """An SSE response carrying `channel`'s events; `initial` are pre-formatted messages
    (pubsub.format_sse) sent first, e.g. the current state."""
    heartbeat = float(current_app.config["SSE_HEARTBEAT"])
    address = request.remote_addr or ""
    slots = _slots()
    if not slots.take(address, int(current_app.config["SSE_STREAMS_PER_ADDRESS"])):
        # Refused at once, before any subscription: EventSource gives up on a non-200 answer
        # (htmx's SSE extension retries, slower each time) and the page polls meanwhile.
        db.session.remove()
        return Response(_("同时打开的实时连接太多，页面会定时刷新。"), 429,
                        {"Retry-After": "60", "Cache-Control": "no-store"},
                        mimetype="text/plain")
    sub = pubsub.subscribe(channel)
    first = list(initial)
    # Give the connection back before a stream that may last hours.
    db.session.remove()
    released = threading.Event()

    def release() -> None:
        # Run by the generator's finally, and by the server closing the response (which also
        # covers a client gone before the first byte: the generator never started).
        if not released.is_set():
            released.set()
            sub.close()
            slots.give(address)

    def generate() -> Iterator[str]:
        try:
            yield b": connected\n\n"
            for message in first:
                yield _encoded(message)
            while True:
                message = sub.get(timeout=heartbeat)
                yield _encoded(message) if message is not None else b": heartbeat\n\n"
        finally:
            release()

    response = Response(generate(), mimetype="text/event-stream")
    response.call_on_close(release)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response

