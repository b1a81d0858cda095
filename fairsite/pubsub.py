"""Publish/subscribe for live updates, behind one small interface with two backends:

- in-process (default): one server process; subscribers are queues in this process;
- Redis (FAIRSITE_REDIS_URL set): several processes or hosts; each process keeps one Redis
  subscription and fans messages out to its own local queues.

A message is formatted as a Server-Sent Event once, when published, and the same string is
handed to every subscriber: nothing is rendered or queried per viewer."""
from __future__ import annotations

import queue
import threading
from collections import defaultdict

from flask import Flask, current_app

PREFIX = "fairsite:"


def format_sse(event: str, data: str) -> str:
    """One SSE message; multi-line data becomes several data: lines."""
    lines = data.splitlines() or [""]
    return f"event: {event}\n" + "".join(f"data: {line}\n" for line in lines) + "\n"


class Subscription:
    def __init__(self, hub: LocalHub, channel: str):
        self.hub = hub
        self.channel = channel
        self.queue: queue.Queue[str] = queue.Queue(maxsize=256)

    def get(self, timeout: float) -> str | None:
        """The next formatted message, or None after `timeout` seconds without one."""
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
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
            try:
                sub.queue.put_nowait(message)
            except queue.Full:
                # A viewer that stopped reading; drop rather than hold up everyone else.
                pass

    def count(self, channel: str) -> int:
        with self.lock:
            return len(self.channels.get(channel, ()))


class InProcessBroker:
    def __init__(self) -> None:
        self.hub = LocalHub()

    def publish(self, channel: str, message: str) -> None:
        self.hub.deliver(channel, message)

    def subscribe(self, channel: str) -> Subscription:
        return self.hub.add(channel)

    def close(self) -> None:
        pass


class RedisBroker:
    """Publishes through Redis; one listener per process feeds the local hub."""

    def __init__(self, url: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(url)
        self.hub = LocalHub()
        self._listener: threading.Thread | None = None
        self._pubsub = None
        self._ready = threading.Event()
        self._start_lock = threading.Lock()

    def publish(self, channel: str, message: str) -> None:
        self.redis.publish(PREFIX + channel, message.encode())

    def subscribe(self, channel: str) -> Subscription:
        self._ensure_listener()
        return self.hub.add(channel)

    def _ensure_listener(self) -> None:
        with self._start_lock:
            if self._listener is not None and self._listener.is_alive():
                return
            self._ready.clear()
            self._listener = threading.Thread(target=self._listen, name="fairsite-pubsub", daemon=True)
            self._listener.start()
        self._ready.wait(timeout=5)

    def _listen(self) -> None:
        import time

        while True:
            try:
                pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
                pubsub.psubscribe(PREFIX + "*")
                self._pubsub = pubsub
                self._ready.set()
                for item in pubsub.listen():
                    if item.get("type") != "pmessage":
                        continue
                    channel = item["channel"].decode()[len(PREFIX):]
                    self.hub.deliver(channel, item["data"].decode())
            except Exception:  # noqa: BLE001 - keep listening across Redis restarts
                self._ready.set()
                time.sleep(1)

    def close(self) -> None:
        if self._pubsub is not None:
            try:
                self._pubsub.close()
            except Exception:  # noqa: BLE001
                pass
        self.redis.close()


def init_app(app: Flask) -> None:
    url = app.config.get("REDIS_URL") or ""
    app.extensions["fairsite.pubsub"] = RedisBroker(url) if url else InProcessBroker()


def broker() -> InProcessBroker | RedisBroker:
    return current_app.extensions["fairsite.pubsub"]


def publish(channel: str, event: str, data: str = "") -> None:
    """Send an event to everyone subscribed to `channel`. Call after the commit."""
    broker().publish(channel, format_sse(event, data))


def subscribe(channel: str) -> Subscription:
    return broker().subscribe(channel)


def subscriber_count(channel: str) -> int:
    """Subscribers of `channel` connected to this process."""
    return broker().hub.count(channel)
