"""Mainland mobile numbers: normalise what people type, then validate."""
from __future__ import annotations

import re
import unicodedata

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212().]")


def _plain(raw: str) -> str:
    """Full-width forms folded (NFKC), invisible characters (zero-width spaces, bidi marks,
    controls) dropped, and every script's decimal digits (Arabic-Indic ١٣٨...) made ASCII."""
    out = []
    for char in unicodedata.normalize("NFKC", raw):
        if unicodedata.category(char) in ("Cf", "Cc") and not char.isspace():
            continue
        out.append(str(unicodedata.decimal(char)) if char.isdecimal() else char)
    return "".join(out)


def normalise_phone(raw: str | None) -> str | None:
    """Return the 11-digit number, or None when what was typed is not a mainland mobile.

    Accepts full-width and other scripts' digits, spaces, dashes, brackets, dots, a "tel:"
    prefix (a pasted link), invisible characters, and a leading +86 / 0086 / 86."""
    if not raw or not isinstance(raw, str) or len(raw) > 60:
        return None
    if any(unicodedata.category(c) == "No" for c in raw):
        return None  # "²", "①": not digits anyone dials
    text = _plain(raw).strip()
    if text[:4].lower() == "tel:":
        text = text[4:]
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
