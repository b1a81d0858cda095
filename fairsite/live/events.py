"""live: events that viewers of a live session receive."""
from __future__ import annotations


def counts_changed(live_session_id: int) -> None:
    """Publish the session's new counts to its viewers (rendered once, sent to all)."""
    # Built by the live-session issue; until then viewers get counts on page load.
    return None
