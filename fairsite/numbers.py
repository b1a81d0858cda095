"""Numbers from requests: ids and counts in URL paths, query strings and form fields. ASCII
decimal digits only, bounded before any query: `str.isdigit()` accepts "²" (and int() then
fails), int() accepts "١٢" and "1_000", and an id past the column's range (2**31 on
PostgreSQL, 2**63 on SQLite) fails in the driver instead of finding nothing."""
from __future__ import annotations

import re
from collections.abc import Iterable

from werkzeug.routing import IntegerConverter

# The largest id a column holds on every backend (PostgreSQL's INTEGER).
MAX_ID = 2**31 - 1
# Beyond any page a list really has; keeps OFFSET far from an overflow.
MAX_PAGE = 100_000
_DIGITS = re.compile(r"[0-9]{1,10}")


def parse_number(raw, low: int = 1, high: int = MAX_ID) -> int | None:
    """The number `raw` spells in ASCII digits (surrounding space allowed), when it lies in
    low..high; None for anything else (empty, signs, other scripts' digits, too large)."""
    if not isinstance(raw, str):
        return None
    raw = raw.strip()
    if not _DIGITS.fullmatch(raw):
        return None
    value = int(raw)
    return value if low <= value <= high else None


def parse_id(raw) -> int | None:
    """A row id (1..MAX_ID) or None."""
    return parse_number(raw, 1, MAX_ID)


def parse_ids(values: Iterable, limit: int | None = None) -> list[int]:
    """The valid ids among `values`, each once, in the order given; at most `limit`."""
    ids: list[int] = []
    for raw in values:
        value = parse_id(raw)
        if value is not None and value not in ids:
            ids.append(value)
            if limit is not None and len(ids) >= limit:
                break
    return ids


def parse_page(raw) -> int:
    """A page number from the query string: 1 when absent or not a number in 1..MAX_PAGE."""
    return parse_number(raw, 1, MAX_PAGE) or 1


class IdConverter(IntegerConverter):
    """The `int` URL converter for ids: ASCII digits, 1..MAX_ID. Anything else does not match
    the route, so it is a 404 before any query (Werkzeug's own accepts every script's digits,
    and any size)."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = None, signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=1 if min is None else min,
                         max=MAX_ID if max is None else max, signed=False)
