"""Both publish/subscribe backends deliver one formatted message to every subscriber."""
import os
import time
import uuid

import pytest

from fairsite.pubsub import InProcessBroker, RedisBroker, format_sse

REDIS_URL = os.environ.get("FAIRSITE_TEST_REDIS_URL", "")


def test_format_sse_splits_multiline_data():
    assert format_sse("card", "<p>\n  hi\n</p>") == "event: card\ndata: <p>\ndata:   hi\ndata: </p>\n\n"


def _exercise(broker):
    a, b, other = broker.subscribe("live:1"), broker.subscribe("live:1"), broker.subscribe("live:2")
    broker.publish("live:1", format_sse("card", "x"))
    assert a.get(timeout=2) == "event: card\ndata: x\n\n"
    assert b.get(timeout=2) == "event: card\ndata: x\n\n"
    assert other.get(timeout=0.2) is None
    a.close()
    b.close()
    other.close()
    assert broker.hub.count("live:1") == 0


def test_in_process_broker_fans_out_per_channel():
    _exercise(InProcessBroker())


def _retains(broker, other=None):
    """A message published with retain is what a later subscriber gets first, per event name;
    several events sent as one message are retained one by one."""
    other = other or broker
    two = format_sse("card", "old") + format_sse("counts", "1")
    broker.publish("live:5", two, retain=True)
    broker.publish("live:5", format_sse("card", "new"), retain=True)
    broker.publish("live:5", format_sse("ping", "x"))
    deadline = time.monotonic() + 2
    while sorted(other.retained("live:5") or []) != sorted([format_sse("card", "new"), format_sse("counts", "1")]):
        assert time.monotonic() < deadline, other.retained("live:5")
        time.sleep(0.02)


def test_in_process_broker_retains_the_latest_of_each_event():
    _retains(InProcessBroker())


def test_in_process_broker_counts_subscribers():
    broker = InProcessBroker()
    subs = [broker.subscribe("live:3") for _ in range(3)]
    assert broker.total_count("live:3") == 3
    subs[0].close()
    assert broker.total_count("live:3") == 2


def test_subscription_drops_its_oldest_messages_when_not_read():
    broker = InProcessBroker()
    sub = broker.subscribe("live:4")
    for i in range(1000):
        broker.publish("live:4", format_sse("n", str(i)))
    got = []
    while (m := sub.get(timeout=0.01)) is not None:
        got.append(m)
    assert got[-1] == format_sse("n", "999") and len(got) < 1000


def _redis(prefix: str | None = None) -> RedisBroker:
    if not REDIS_URL:
        if os.environ.get("FAIRSITE_REQUIRE_SERVICES"):
            pytest.fail("FAIRSITE_TEST_REDIS_URL must be set in CI")
        pytest.skip("Redis not configured: set FAIRSITE_TEST_REDIS_URL")
    return RedisBroker(REDIS_URL, prefix or f"fairsite-test-{uuid.uuid4().hex[:8]}")


def test_redis_broker_retains_across_processes():
    prefix = f"fairsite-test-{uuid.uuid4().hex[:8]}"
    a, b = _redis(prefix), _redis(prefix)
    try:
        b.subscribe("live:5").close()  # b listens, as a process with viewers does
        _retains(a, b)
        # A process that started later (nothing seen locally) reads the retained state from Redis.
        late = _redis(prefix)
        assert sorted(late.retained("live:5")) == sorted([format_sse("card", "new"), format_sse("counts", "1")])
        late.close()
    finally:
        a.close()
        b.close()


def test_redis_broker_counts_subscribers_of_every_process():
    prefix = f"fairsite-test-{uuid.uuid4().hex[:8]}"
    a, b = _redis(prefix), _redis(prefix)
    try:
        subs = [a.subscribe("live:6"), b.subscribe("live:6"), b.subscribe("live:6")]
        b._report()  # what b's listener does every few seconds
        assert a.total_count("live:6") == 3
        for s in subs:
            s.close()
        b._report()
        assert a.total_count("live:6") == 0
    finally:
        a.close()
        b.close()


def test_redis_broker_fans_out_per_channel():
    prefix = f"fairsite-test-{uuid.uuid4().hex[:8]}"
    broker = _redis(prefix)
    try:
        _exercise(broker)
        # A second broker (another process, in effect) receives what the first publishes.
        other = RedisBroker(REDIS_URL, prefix)
        sub = other.subscribe("live:9")
        time.sleep(0.1)
        broker.publish("live:9", format_sse("card", "from-elsewhere"))
        assert sub.get(timeout=2) == "event: card\ndata: from-elsewhere\n\n"
        sub.close()
        other.close()
    finally:
        broker.close()
