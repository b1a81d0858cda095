"""Writing the audit log, and keeping phone numbers out of it (and out of the logs).

    from fairsite.audit.service import record

    with write_transaction():
        ...the change...
        record("booth.approve", "booth", booth.id, f"A-12 employer={booth.employer_id}")

record() adds the entry to the session and leaves the commit to the caller: the entry is
written if and only if the action is. Who acted is read from the logged-in user. Call it from a
view's own transaction, not from a group-commit job (which runs outside the request)."""
from __future__ import annotations

import logging
import re
import unicodedata

from flask import has_request_context
from flask_login import current_user

from fairsite.audit.models import AuditEntry
from fairsite.extensions import db

DETAIL_MAX = 300

# A mainland mobile number inside free text, however it was typed (spaces, dashes, dots,
# +86 / 0086 in front).
_PHONE_IN_TEXT = re.compile(
    r"(?<![0-9])(?:(?:\+|00)?86[\s\-]?)?1[3-9](?:[\s\-\u2010-\u2015\u2212.]?[0-9]){9}(?![0-9])"
)


def redact_phones(text: str) -> str:
    """`text` with every mainland mobile number in it replaced by ***."""
    if not text:
        return ""
    return _PHONE_IN_TEXT.sub("***", unicodedata.normalize("NFKC", text))


def record(action: str, obj_type: str | None = None, obj_id: int | None = None,
           detail: str = "", *, employer_id: int | None = None) -> AuditEntry:
    """Add an audit entry for what the logged-in staff member is doing, inside the caller's
    transaction. `action` is a code such as "booth.approve" (labels: audit.models.ACTIONS);
    `detail` is short free text and never keeps a phone number. `employer_id` defaults to the
    employer the user works for. Outside a request (a CLI command) the actor is "system"."""
    user = current_user if has_request_context() and current_user.is_authenticated else None
    entry = AuditEntry(
        user_id=user.id if user else None,
        role=user.role if user else "system",
        employer_id=employer_id if employer_id is not None else (user.employer_id if user else None),
        action=action[:40],
        obj_type=obj_type[:30] if obj_type else None,
        obj_id=obj_id,
        detail=redact_phones(detail)[:DETAIL_MAX],
    )
    db.session.add(entry)
    return entry


class RedactPhones(logging.Filter):
    """A log handler filter: no phone number reaches the log, whatever the message or the
    traceback says (a database error can quote the row it refused)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact_phones(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_phones(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_phones(record.stack_info)
        return True
