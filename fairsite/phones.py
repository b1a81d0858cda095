"""Mainland mobile numbers: normalise what people type, then validate."""
from __future__ import annotations

import re
import unicodedata

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212().]")


def normalise_phone(raw: str | None) -> str | None:
    """Return the 11-digit number, or None when what was typed is not a mainland mobile.

    Accepts full-width digits, spaces, dashes, brackets and a leading +86 / 0086 / 86."""
    if not raw:
        return None
    text = unicodedata.normalize("NFKC", raw).strip()
    text = _SEPARATORS.sub("", text)
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    elif len(text) == 13 and text.startswith("86"):
        text = text[2:]
    if not text.isascii() or not _MOBILE.fullmatch(text):
        return None
    return text
