"""Finding vacancies at a fair, at a cost that does not grow with the fair: the index
`search_terms` (migration b50_search, kept by triggers on every write) holds, per fair, one row
per listed vacancy and term, in the order the fair page lists vacancies (booth number, vacancy
id). A page is a range of one term's rows, walked from the last row shown (keyset) and checked
against the other conditions on the way; a count stops at COUNT_LIMIT.

Terms: '' (every listing), each one and two characters of the lowered title, location and
employer name, 'c=<category>', 'b=meals', 'b=insurance', 'p=<yuan>' (pay_max >= one of
PAY_STEPS). A search word of one or two characters ("工", "司机") is a term; a longer one
("电子厂") needs all of a few of its two-character pieces, then is matched against the text.
Several words must all match (each in the title, the location or the employer name).

The walk starts from the rarest term of the search (a probe of at most PROBE rows each), and is
bounded: at most WALK index rows per page. A search whose words and filters together are rare
although each alone is common (every "工" job paying 8,000+ in one category) may so find fewer
rows than a page holds, or none; the page then says there may be more and links on from where
the walk stopped. The count says "N+" in that case, and beyond COUNT_LIMIT."""
from __future__ import annotations

from dataclasses import dataclass

from fairsite.sql import fetch_all, fetch_one

PAGE_SIZE = 30
# Counts stop here: "1000+ 个岗位".
COUNT_LIMIT = 1000
# Index rows a page or a count walks at most when it checks conditions beyond its term.
WALK = 2000
# Rows a term is counted to at most when choosing the rarest.
PROBE = WALK
# The "最低月薪" choices, each a term (migration b50_search indexes the same steps).
PAY_STEPS = (3000, 4000, 5000, 6000, 8000)
MAX_WORDS = 5
# Pieces of a long word required of the index (its text is then matched in full).
PIECES_PER_WORD = 4

_UPPER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def words_of(q: str) -> list[str]:
    """The search words of `q`: split at spaces (full-width ones too), ASCII letters lowered as
    the index lowers them (SQLite's lower() folds ASCII only), each once, at most MAX_WORDS."""
    out: list[str] = []
    for word in q.translate(_UPPER).split():
        if word not in out:
            out.append(word)
    return out[:MAX_WORDS]


def _pieces(word: str) -> list[str]:
    """A few two-character pieces of a word of three or more characters, spread over it."""
    pieces = [word[i:i + 2] for i in range(len(word) - 1)]
    if len(pieces) > PIECES_PER_WORD:
        step = (len(pieces) - 1) / (PIECES_PER_WORD - 1)
        pieces = [pieces[round(i * step)] for i in range(PIECES_PER_WORD)]
    return list(dict.fromkeys(pieces))


@dataclass(frozen=True)
class Criteria:
    """What the fair page's filter asks, in the index's terms."""

    words: tuple[str, ...] = ()
    category: str = ""
    min_pay: int | None = None
    meals: bool = False
    insurance: bool = False


@dataclass
class _Plan:
    drive: str  # the term whose rows are walked
    where: list[str]  # conditions on the walked row `d`, beyond its term
    params: dict


def _term_rows(fair_id: int, term: str, cap: int) -> int:
    row = fetch_one(
        "SELECT count(*) FROM (SELECT 1 FROM search_terms WHERE fair_id = :f AND term = :t LIMIT :cap) x",
        {"f": fair_id, "t": term, "cap": cap},
    )
    return row[0]


def _plan(fair_id: int, c: Criteria) -> _Plan:
    # Terms that could be walked: a short word itself, pieces of a long one, the filters' terms.
    candidates: list[str] = []
    for word in c.words:
        candidates += [word] if len(word) <= 2 else _pieces(word)
    params: dict = {"f": fair_id}
    # Each filter: (its term or None, its check on the walked row, whether the term implies it).
    filters: list[tuple[str | None, str, bool]] = []
    if c.category:
        params["cat"] = c.category
        filters.append(("c=" + c.category, "d.category = :cat", True))
    if c.min_pay is not None:
        params["pay"] = c.min_pay
        steps = [s for s in PAY_STEPS if s <= c.min_pay]
        term = f"p={steps[-1]}" if steps else None
        filters.append((term, "d.pay_max >= :pay", bool(steps) and steps[-1] == c.min_pay))
    if c.meals:
        filters.append(("b=meals", "d.meals", True))
    if c.insurance:
        filters.append(("b=insurance", "d.insurance", True))
    candidates = list(dict.fromkeys(candidates + [term for term, _check, _implied in filters if term]))
    drive = candidates[0] if candidates else ""
    if len(candidates) > 1:
        # The rarest, each probe stopping where the rarest so far stopped.
        fewest = _term_rows(fair_id, drive, PROBE)
        for term in candidates[1:]:
            if fewest and (n := _term_rows(fair_id, term, fewest)) < fewest:
                drive, fewest = term, n

    where = [check for term, check, implied in filters if not (term == drive and implied)]
    # Every word but the one walked is matched against the listing's text, on its '' row.
    words = [w for w in c.words if w != drive]
    if words:
        likes = []
        for n, word in enumerate(words):
            params[f"w{n}"] = word
            # "Contains" in SQL both databases run, at instr()'s speed (LIKE costs twice as much).
            likes.append(f" AND replace(x.txt, :w{n}, '') <> x.txt")
        where.append(
            "EXISTS (SELECT 1 FROM search_terms x WHERE x.fair_id = d.fair_id AND x.term = '' "
            f"AND x.booth_number = d.booth_number AND x.vacancy_id = d.vacancy_id{''.join(likes)})"
        )
    params["d"] = drive
    return _Plan(drive, where, params)


_RANGE = "d.fair_id = :f AND d.term = :d"
_AFTER = " AND (d.booth_number, d.vacancy_id) > (:after_booth, :after_id)"
_UNTIL = " AND (d.booth_number, d.vacancy_id) <= (:until_booth, :until_id)"
_ORDER = " ORDER BY d.booth_number, d.vacancy_id"


def _walk_end(params: dict, after_sql: str):
    """The last index row a walk may reach: the WALK-th of its term after `after`, or None
    when the term's rows end before."""
    return fetch_one(
        f"SELECT d.booth_number, d.vacancy_id FROM search_terms d WHERE {_RANGE}{after_sql}{_ORDER} "
        "LIMIT 1 OFFSET :walk", {**params, "walk": WALK - 1},
    )


@dataclass(frozen=True)
class Found:
    rows: list  # (booth_number, vacancy_id, booth_id) of the listings found, in the page's order
    after: tuple | None  # the key the next page starts after (None: there is no next page)
    count: int | None = None  # matches from the start, at most COUNT_LIMIT (when asked for)
    more: bool = False  # there may be more matches than `count`


def find(fair_id: int, c: Criteria, after: tuple | None = None, size: int = PAGE_SIZE,
         with_count: bool = True) -> Found:
    """Up to `size` listings matching `c` after the key `after` (None: from the start), and,
    with_count, how many match from the start (up to COUNT_LIMIT)."""
    plan = _plan(fair_id, c)
    params = dict(plan.params)
    checks = "".join(f" AND {w}" for w in plan.where)
    after_sql = ""
    if after is not None:
        params.update(after_booth=after[0], after_id=after[1])
        after_sql = _AFTER
    # A walk that checks nothing beyond its term stops by itself at the page's end.
    end = _walk_end(params, after_sql) if plan.where else None
    until_sql = ""
    if end is not None:
        params.update(until_booth=end[0], until_id=end[1])
        until_sql = _UNTIL
    rows = fetch_all(
        f"SELECT d.booth_number, d.vacancy_id, d.booth_id FROM search_terms d WHERE {_RANGE}{after_sql}{until_sql}"
        f"{checks}{_ORDER} LIMIT :n", {**params, "n": size + 1},
    )
    found = [tuple(r) for r in rows[:size]]
    keys = [(number, vacancy_id) for number, vacancy_id, _booth_id in found]
    # More rows than the page: the next starts after its last. A walk that stopped at its
    # bound: the next looks on from there.
    next_after = keys[-1] if len(rows) > size else (tuple(end) if end is not None else None)
    if not with_count:
        return Found(found, next_after)
    if after is None and len(rows) <= size:
        # Every match the walk can reach is on this page.
        n, bounded = len(found), end is not None
    else:
        # Counted from the start, as far as a walk from the start reaches.
        start_end = end if after is None else (_walk_end(params, "") if plan.where else None)
        until_sql = ""
        if start_end is not None:
            params.update(until_booth=start_end[0], until_id=start_end[1])
            until_sql = _UNTIL
        n = fetch_one(
            f"SELECT count(*) FROM (SELECT 1 FROM search_terms d WHERE {_RANGE}{until_sql}{checks} LIMIT :n) x",
            {**params, "n": COUNT_LIMIT + 1},
        )[0]
        bounded = start_end is not None
    if n > COUNT_LIMIT:
        return Found(found, next_after, COUNT_LIMIT, True)
    return Found(found, next_after, n, bounded)
