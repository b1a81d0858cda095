"""Both publish/subscribe backends deliver one formatted message to every subscriber."""
import os
import time

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


def test_redis_broker_fans_out_per_channel():
    if not REDIS_URL:
        if os.environ.get("FAIRSITE_REQUIRE_SERVICES"):
            pytest.fail("FAIRSITE_TEST_REDIS_URL must be set in CI")
        pytest.skip("Redis not configured: set FAIRSITE_TEST_REDIS_URL")
    broker = RedisBroker(REDIS_URL)
    try:
        _exercise(broker)
        # A second broker (another process, in effect) receives what the first publishes.
        other = RedisBroker(REDIS_URL)
        sub = other.subscribe("live:9")
        time.sleep(0.1)
        broker.publish("live:9", format_sse("card", "from-elsewhere"))
        assert sub.get(timeout=2) == "event: card\ndata: from-elsewhere\n\n"
        sub.close()
        other.close()
    finally:
        broker.close()
