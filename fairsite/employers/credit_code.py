"""The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters whose last
is a check character computed from the first 17."""
from __future__ import annotations

import unicodedata

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_character(first17: str) -> str:
    total = sum(CHARSET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def normalise_credit_code(raw: str | None) -> str | None:
    """The code in upper case without spaces, or None if it is not a valid code."""
    if not raw:
        return None
    code = unicodedata.normalize("NFKC", raw).replace(" ", "").strip().upper()
    if len(code) != 18 or any(c not in CHARSET for c in code):
        return None
    if check_character(code[:17]) != code[17]:
        return None
    return code


def make_credit_code(first17: str) -> str:
    """Complete 17 characters with their check character (used by the demo and tests)."""
    return first17 + check_character(first17)
