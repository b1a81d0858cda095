"""What happened, told to whoever watches, after the transaction that did it has committed.
Views call these; the live and tally modules decide what their viewers receive."""
from __future__ import annotations

from fairsite import pubsub


def intent_changed(
    fair_id: int | None, live_session_id: int | None = None, employer_id: int | None = None
) -> None:
    """An intent was signed, withdrawn, erased or moved on: boards, lists and counts follow."""
    if fair_id:
        # Tally boards re-fetch their fragment (a handful of organisers; ETag makes it cheap).
        pubsub.publish(f"fair:{fair_id}", "tally")
    if employer_id:
        # The employer's list of people who signed fetches its new rows.
        pubsub.publish(f"employer:{employer_id}", "intents")
    if live_session_id:
        from fairsite.live.events import counts_changed

        counts_changed(live_session_id)
