"""Publish/subscribe for live updates, behind one small interface with two backends:

- in-process (default): one server process; subscribers are inboxes in this process;
- Redis (FAIRSITE_REDIS_URL set): several processes or hosts; each process keeps one Redis
  subscription and fans messages out to its own local inboxes.

A message is formatted as a Server-Sent Event once, when published, and the same string is
handed to every subscriber: nothing is rendered or queried per viewer.

A message published with `retain=True` is also kept as the channel's latest message of its
event name, and a new subscriber gets the retained messages first (`retained(channel)`): a
viewer who connects (or reconnects after a network gap) just after a change still sees it.

Subscriber counts: `subscriber_count` counts this process; `total_subscriber_count` adds up
every process (with Redis each process reports its counts every few seconds)."""
from __future__ import annotations

import os
import socket
import threading
import time
from collections import defaultdict, deque

from flask import Flask, current_app

# A process that has not reported for this long is taken to be gone (crashed, restarted).
REPORT_EVERY = 5.0
REPORT_STALE = 3 * REPORT_EVERY


def format_sse(event: str, data: str) -> str:
    """One SSE message; multi-line data becomes several data: lines."""
    lines = data.splitlines() or [""]
    return f"event: {event}\n" + "".join(f"data: {line}\n" for line in lines) + "\n"


class Subscription:
    """One subscriber's inbox. A deque and an event rather than queue.Queue: delivering to ten
    thousand viewers is one append and one wake-up each (a third of the cost of a Queue's
    condition variables under gevent). A viewer who stops reading loses its oldest messages,
    never anyone else's time."""

    def __init__(self, hub: LocalHub, channel: str):
        self.hub = hub
        self.channel = channel
        self.items: deque[str] = deque(maxlen=64)
        self.ready = threading.Event()

    def put(self, message: str) -> None:
        self.items.append(message)
        self.ready.set()

    def get(self, timeout: float) -> str | None:
        """The next formatted message, or None after `timeout` seconds without one."""
        if not self.items:
            self.ready.clear()
            # Checked again after clearing: a put in between has set the event or left an item.
            if not self.items:
                self.ready.wait(timeout)
        try:
            return self.items.popleft()
        except IndexError:
            return None

    def close(self) -> None:
        self.hub.remove(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class LocalHub:
    """The subscribers of this process, by channel."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.channels: dict[str, set[Subscription]] = defaultdict(set)
        # channel -> {event name -> latest formatted message}
        self.retained: dict[str, dict[str, str]] = {}

    def retain(self, channel: str, message: str, *, only_if_missing: bool = False) -> None:
        """Keep each event of `message` (one or several SSE events) as the channel's latest."""
        with self.lock:
            kept = self.retained.setdefault(channel, {})
            for event, block in split_events(message):
                if not (only_if_missing and event in kept):
                    kept[event] = block

    def retained_messages(self, channel: str) -> list[str] | None:
        """The retained messages of `channel`, or None if this process holds none."""
        with self.lock:
            kept = self.retained.get(channel)
            return list(kept.values()) if kept else None

    def add(self, channel: str) -> Subscription:
        sub = Subscription(self, channel)
        with self.lock:
            self.channels[channel].add(sub)
        return sub

    def remove(self, sub: Subscription) -> None:
        with self.lock:
            subs = self.channels.get(sub.channel)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self.channels[sub.channel]

    def deliver(self, channel: str, message: str) -> None:
        with self.lock:
            subs = list(self.channels.get(channel, ()))
        for sub in subs:
            sub.put(message)

    def count(self, channel: str) -> int:
        with self.lock:
            return len(self.channels.get(channel, ()))

    def counts(self) -> dict[str, int]:
        with self.lock:
            return {channel: len(subs) for channel, subs in self.channels.items()}


def split_events(message: str) -> list[tuple[str, str]]:
    """(event name, its formatted block) for each event in a formatted message."""
    out = []
    for block in message.split("\n\n"):
        if block.startswith("event: "):
            out.append((block.split("\n", 1)[0][len("event: "):], block + "\n\n"))
    return out


class InProcessBroker:
    def __init__(self) -> None:
        self.hub = LocalHub()

    def publish(self, channel: str, message: str, retain: bool = False) -> None:
        if retain:
            self.hub.retain(channel, message)
        self.hub.deliver(channel, message)

    def subscribe(self, channel: str) -> Subscription:
        return self.hub.add(channel)

    def retained(self, channel: str) -> list[str] | None:
        return self.hub.retained_messages(channel)

    def total_count(self, channel: str) -> int:
        return self.hub.count(channel)

    def close(self) -> None:
        pass


class RedisBroker:
    """Publishes through Redis; one listener per process feeds the local hub.

    Retained messages are also kept in a Redis hash per channel, so that a process that
    started after a change can still give new subscribers the current state. Each message
    on the wire starts with "R" (retained) or "N" (not)."""

    def __init__(self, url: str, prefix: str = "fairsite") -> None:
        import redis

        self.redis = redis.Redis.from_url(url)
        # Channels and keys are named "<prefix>:...": Redis pub/sub ignores the database
        # number, so two sites (or test runs) on one Redis need different prefixes.
        self.channel_prefix = f"{prefix}:"
        self.retained_prefix = f"{prefix}-retained:"
        self.counts_key = f"{prefix}-subscribers"
        self.hub = LocalHub()
        self.process_id = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._listener: threading.Thread | None = None
        self._pubsub = None
        self._ready = threading.Event()
        self._start_lock = threading.Lock()
        self._closed = False
        self._reported: set[str] = set()
        self._report_lock = threading.Lock()

    def publish(self, channel: str, message: str, retain: bool = False) -> None:
        pipe = self.redis.pipeline(transaction=False)
        if retain:
            key = self.retained_prefix + channel
            pipe.hset(key, mapping={e: block.encode() for e, block in split_events(message)})
            # A day outlives any live session; stale state never outlives a reset database long.
            pipe.expire(key, 86400)
        pipe.publish(self.channel_prefix + channel, ("R" if retain else "N") + message)
        pipe.execute()

    def subscribe(self, channel: str) -> Subscription:
        self._ensure_listener()
        return self.hub.add(channel)

    def retained(self, channel: str) -> list[str] | None:
        kept = self.hub.retained_messages(channel)
        if kept is not None:
            return kept
        # This process has seen no change on the channel yet: ask Redis once.
        stored = self.redis.hgetall(self.retained_prefix + channel)
        for message in stored.values():
            self.hub.retain(channel, message.decode(), only_if_missing=True)
        return self.hub.retained_messages(channel)

    def total_count(self, channel: str) -> int:
        """Subscribers of `channel` in every process that reported recently (this one now)."""
        self._report()
        raw = self.redis.hgetall(f"{self.counts_key}:{channel}")
        seen = self.redis.hgetall(self.counts_key)
        now = time.time()
        total = 0
        for proc, n in raw.items():
            last = float(seen.get(proc, 0) or 0)
            if now - last <= REPORT_STALE:
                total += int(n)
        return total

    def _report(self) -> None:
        """Write this process's subscriber counts to Redis (and drop channels now empty).

        One report at a time: the listener reports on its own schedule and total_count() on
        demand, and an older count written after a newer one would stick until the next."""
        with self._report_lock:
            counts = self.hub.counts()
            pipe = self.redis.pipeline(transaction=False)
            for channel, n in counts.items():
                pipe.hset(f"{self.counts_key}:{channel}", self.process_id, n)
                pipe.expire(f"{self.counts_key}:{channel}", 600)
            for channel in self._reported - counts.keys():
                pipe.hdel(f"{self.counts_key}:{channel}", self.process_id)
            pipe.hset(self.counts_key, self.process_id, time.time())
            pipe.expire(self.counts_key, 600)
            pipe.execute()
            self._reported = set(counts)

    def _ensure_listener(self) -> None:
        with self._start_lock:
            if self._listener is not None and self._listener.is_alive():
                return
            self._ready.clear()
            self._listener = threading.Thread(target=self._listen, name="fairsite-pubsub", daemon=True)
            self._listener.start()
        self._ready.wait(timeout=5)

    def _listen(self) -> None:
        while not self._closed:
            try:
                pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
                pubsub.psubscribe(self.channel_prefix + "*")
                self._pubsub = pubsub
                self._ready.set()
                next_report = 0.0
                while not self._closed:
                    item = pubsub.get_message(timeout=1.0)
                    if time.monotonic() >= next_report:
                        self._report()
                        next_report = time.monotonic() + REPORT_EVERY
                    if item is None or item.get("type") != "pmessage":
                        continue
                    channel = item["channel"].decode()[len(self.channel_prefix):]
                    data = item["data"].decode()
                    message = data[1:]
                    if data[:1] == "R":
                        self.hub.retain(channel, message)
                    self.hub.deliver(channel, message)
            except Exception:  # noqa: BLE001 - keep listening across Redis restarts
                self._ready.set()
                if not self._closed:
                    time.sleep(1)

    def close(self) -> None:
        self._closed = True
        if self._pubsub is not None:
            try:
                self._pubsub.close()
            except Exception:  # noqa: BLE001
                pass
        self.redis.close()


def init_app(app: Flask) -> None:
    url = app.config["REDIS_URL"]
    prefix = app.config["PUBSUB_PREFIX"]
    app.extensions["fairsite.pubsub"] = RedisBroker(url, prefix) if url else InProcessBroker()


def broker() -> InProcessBroker | RedisBroker:
    return current_app.extensions["fairsite.pubsub"]


def publish(channel: str, event: str, data: str = "", retain: bool = False) -> None:
    """Send an event to everyone subscribed to `channel`. Call after the commit.
    `retain` keeps it as the channel's latest `event`, sent first to new subscribers."""
    broker().publish(channel, format_sse(event, data), retain=retain)


def publish_many(channel: str, events: list[tuple[str, str]], retain: bool = False) -> None:
    """Send several events as ONE message: one delivery (one wake-up, one socket write) per
    subscriber instead of one per event. Call after the commit."""
    broker().publish(channel, "".join(format_sse(e, d) for e, d in events), retain=retain)


def retained(channel: str) -> list[str] | None:
    """The latest retained message of each event of `channel`; None if none is known."""
    return broker().retained(channel)


def keep_local(channel: str, event: str, data: str) -> None:
    """Retain a message in this process only (without sending it): the current state,
    rendered after a restart, for subscribers of a channel that has not changed since."""
    broker().hub.retain(channel, format_sse(event, data), only_if_missing=True)


def subscribe(channel: str) -> Subscription:
    return broker().subscribe(channel)


def subscriber_count(channel: str) -> int:
    """Subscribers of `channel` connected to this process."""
    return broker().hub.count(channel)


def total_subscriber_count(channel: str) -> int:
    """Subscribers of `channel` across processes (with Redis: as reported in the last few
    seconds; in-process: this process, the only one)."""
    return broker().total_count(channel)
