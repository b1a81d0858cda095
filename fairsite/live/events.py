"""live: events that viewers of a live session receive."""
from __future__ import annotations


def counts_changed(live_session_id: int) -> None:
    """Publish the session's new counts to its viewers (rendered once, sent to all) and tell
    host consoles to re-fetch. Runs in the signing request after its commit: two small reads
    (the session, its counters) and one render."""
    from fairsite.live.service import counts_changed as publish_counts

    publish_counts(live_session_id)
