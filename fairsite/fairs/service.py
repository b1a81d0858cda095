"""A fair for the public and for organisers: finding it (a 404 otherwise), its headline
numbers and its vacancy search (fairsite.fairs.search, over the index the database keeps), what
the public fair page's cache is keyed by, and marking a change so that cached pages and boards
expire."""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from sqlalchemy import and_, func, select

from fairsite.booths.models import Booth
from fairsite.booths.service import touch_fair
from fairsite.employers.models import APPROVED, Employer
from fairsite.extensions import db
from fairsite.fairs import search
from fairsite.fairs.models import PUBLIC_STATUSES, Fair
from fairsite.forms import clean_text
from fairsite.numbers import parse_id, parse_number
from fairsite.sql import fetch_one
from fairsite.tallies import service as tallies
from fairsite.tallies.models import Tally
from fairsite.vacancies.models import Vacancy

PAGE_SIZE = search.PAGE_SIZE
PAY_STEPS = search.PAY_STEPS


def get_fair(fair_id: int) -> Fair:
    """Any fair of the deployment, for organisers (drafts included); a 404 otherwise."""
    fair = db.session.get(Fair, fair_id)
    if fair is None:
        abort(404)
    return fair


def get_public_fair(fair_id: int) -> Fair:
    """A fair the public may see; a 404 otherwise."""
    fair = db.session.get(Fair, fair_id)
    if fair is None or not fair.is_public:
        abort(404)
    return fair


def fair_touched(fair_id: int) -> None:
    """Inside the write: cached booth pages and tally boards of the fair expire."""
    touch_fair(fair_id)
    tallies.touch(f"fair:{fair_id}")


@dataclass(frozen=True)
class Headline:
    employers: int
    posts: int
    average_pay: int
    attendees: int
    intents: int


def headline(fair_id: int) -> Headline:
    # Summed over the fair's approved booths (each keeps its own totals, migration b50_search),
    # not over every vacancy: the same cost at 300 vacancies as at 50,000.
    employers, posts, pay_sum = db.session.execute(
        select(func.count(), func.coalesce(func.sum(Booth.posts), 0), func.coalesce(func.sum(Booth.pay_total), 0))
        .where(Booth.fair_id == fair_id, Booth.status == "approved")
    ).one()
    employers, posts, pay_sum = int(employers), int(posts), int(pay_sum)
    # Average monthly pay weighted by headcount, each vacancy counted at its range's middle.
    average = round(pay_sum / 2 / posts) if posts else 0
    counts = dict(
        db.session.execute(
            select(Tally.dim, Tally.n).where(
                Tally.scope == f"fair:{fair_id}", Tally.dim.in_(("attendees", "intents")), Tally.key == ""
            )
        ).all()
    )
    return Headline(employers, posts, average, counts.get("attendees", 0), counts.get("intents", 0))


@dataclass
class VacancyFilter:
    q: str = ""
    category: str = ""
    min_pay: int | None = None
    meals: bool = False
    insurance: bool = False

    @classmethod
    def from_args(cls, args) -> VacancyFilter:
        return cls(
            q=clean_text(args.get("q") or "", 50),
            category=clean_text(args.get("category") or "", 20),
            min_pay=parse_number(args.get("min_pay"), 0, 1_000_000),
            meals=args.get("meals") == "1",
            insurance=args.get("insurance") == "1",
        )

    def criteria(self) -> search.Criteria:
        return search.Criteria(tuple(search.words_of(self.q)), self.category, self.min_pay,
                               self.meals, self.insurance)

    def args(self) -> dict:
        out = {"q": self.q, "category": self.category}
        if self.min_pay is not None:
            out["min_pay"] = self.min_pay
        if self.meals:
            out["meals"] = 1
        if self.insurance:
            out["insurance"] = 1
        return {k: v for k, v in out.items() if v not in ("", None)}


def parse_cursor(raw) -> tuple[str, int] | None:
    """The key a page starts after, from the query string ("A-12~345": booth number, vacancy id);
    None for anything else."""
    if not isinstance(raw, str):
        return None
    number, sep, vacancy_id = raw.rpartition("~")
    number = clean_text(number)
    vacancy_id = parse_id(vacancy_id)
    if not sep or not number or len(number) > 10 or vacancy_id is None:
        return None
    return number, vacancy_id


def cursor_arg(key: tuple[str, int]) -> str:
    return f"{key[0]}~{key[1]}"


@dataclass(frozen=True)
class VacancyPage:
    rows: list  # (Vacancy, booth number, booth token, employer name), in the page's order
    after: tuple | None  # the key the next page starts after; None: there is no next page
    count: int | None  # how many match, at most search.COUNT_LIMIT (None: not counted)
    more: bool  # there may be more than `count`


def search_vacancies(fair_id: int, filt: VacancyFilter, after: tuple | None = None,
                     with_count: bool = True) -> VacancyPage:
    """The page of matching vacancies after the key `after` (None: the first page), and how
    many match. Costs the same whatever the fair's size (see fairsite.fairs.search)."""
    found = search.find(fair_id, filt.criteria(), after, PAGE_SIZE, with_count)
    rows = []
    if found.rows:
        # By primary key: the index has already said which listings, and in what order.
        vacancies = {v.id: v for v in db.session.scalars(
            select(Vacancy).where(Vacancy.id.in_([vacancy_id for _n, vacancy_id, _b in found.rows])))}
        booths = {row[0]: row[1:] for row in db.session.execute(
            select(Booth.id, Booth.number, Booth.token, Employer.name)
            .join(Employer, Employer.id == Booth.employer_id)
            .where(Booth.id.in_({booth_id for _n, _v, booth_id in found.rows})))}
        rows = [(vacancies[vacancy_id], *booths[booth_id]) for _n, vacancy_id, booth_id in found.rows
                if vacancy_id in vacancies and booth_id in booths]
    return VacancyPage(rows, found.after, found.count, found.more)


# Plain SQL, one indexed read: the fair page runs it on every request, before any cache.
_PAGE_STATE = (
    "SELECT f.status, f.version, f.created_at, "
    "(SELECT n FROM tallies WHERE scope = :page AND dim = 'version' AND key = ''), "
    "(SELECT n FROM tallies WHERE scope = :tally AND dim = 'attendees' AND key = ''), "
    "(SELECT n FROM tallies WHERE scope = :tally AND dim = 'intents' AND key = '') "
    "FROM fairs f WHERE f.id = :id"
)


@dataclass(frozen=True)
class PageState:
    status: str
    # What the public fair page's shared parts are keyed by: the fair row's version (moved by
    # a trigger on every change of it), its page counter (moved by a trigger whenever one of
    # its booths is written: booths.service.touch_* and every status change), and its creation
    # time (a fair made later under the same id, in another database, is another fair).
    version: tuple
    attendees: int
    intents: int

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES


def page_state(fair_id: int) -> PageState | None:
    row = fetch_one(_PAGE_STATE, {"id": fair_id, "page": f"fair-page:{fair_id}", "tally": f"fair:{fair_id}"})
    if row is None:
        return None
    status, version, created_at, counter, attendees, intents = row
    return PageState(status, (version, counter or 0, created_at), attendees or 0, intents or 0)


def booth_list(fair_id: int):
    return db.session.execute(
        select(Booth.number, Booth.token, Employer.name, Employer.industry)
        .join(Employer, Employer.id == Booth.employer_id)
        .where(and_(Booth.fair_id == fair_id, Booth.status == "approved", Employer.status == APPROVED))
        .order_by(Booth.number)
    ).all()
