"""A fair for the public and for organisers: finding it (a 404 otherwise), its headline
numbers and its vacancy search, and marking a change so that cached pages and boards expire."""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from sqlalchemy import Select, and_, func, or_, select

from fairsite.booths.models import Booth, BoothVacancy
from fairsite.booths.service import touch_fair
from fairsite.employers.models import Employer
from fairsite.extensions import db
from fairsite.fairs.models import Fair
from fairsite.forms import clean_text
from fairsite.tallies import service as tallies
from fairsite.tallies.models import Tally
from fairsite.vacancies.models import Vacancy

PAGE_SIZE = 30


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


def _fair_vacancies(fair_id: int) -> Select:
    """Open vacancies placed at the fair's approved booths, with their booth and employer."""
    return (
        select(Vacancy, Booth.number, Booth.token, Employer.name)
        .join(BoothVacancy, BoothVacancy.vacancy_id == Vacancy.id)
        .join(Booth, Booth.id == BoothVacancy.booth_id)
        .join(Employer, Employer.id == Booth.employer_id)
        .where(Booth.fair_id == fair_id, Booth.status == "approved", Vacancy.is_open.is_(True))
    )


def headline(fair_id: int) -> Headline:
    placed = (
        select(Vacancy.id, Vacancy.headcount, Vacancy.pay_min, Vacancy.pay_max)
        .join(BoothVacancy, BoothVacancy.vacancy_id == Vacancy.id)
        .join(Booth, Booth.id == BoothVacancy.booth_id)
        .where(Booth.fair_id == fair_id, Booth.status == "approved", Vacancy.is_open.is_(True))
        .distinct()
        .subquery()
    )
    row = db.session.execute(
        select(
            # Employers at the fair: its approved booths, with open vacancies or not.
            select(func.count()).select_from(Booth)
            .where(Booth.fair_id == fair_id, Booth.status == "approved").scalar_subquery(),
            func.coalesce(func.sum(placed.c.headcount), 0),
            func.coalesce(
                func.sum(placed.c.headcount * (placed.c.pay_min + placed.c.pay_max)), 0
            ),
        )
    ).one()
    employers, posts, pay_sum = int(row[0]), int(row[1]), int(row[2])
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
        raw_pay = (args.get("min_pay") or "").strip()
        return cls(
            q=clean_text(args.get("q") or "", 50),
            category=clean_text(args.get("category") or "", 20),
            min_pay=int(raw_pay) if raw_pay.isdigit() and len(raw_pay) < 7 else None,
            meals=args.get("meals") == "1",
            insurance=args.get("insurance") == "1",
        )

    def apply(self, query: Select) -> Select:
        if self.q:
            like = f"%{self.q.replace('%', '').replace('_', '')}%"
            query = query.where(
                or_(Vacancy.title.ilike(like), Employer.name.ilike(like), Vacancy.location.ilike(like))
            )
        if self.category:
            query = query.where(Vacancy.category == self.category)
        if self.min_pay is not None:
            query = query.where(Vacancy.pay_max >= self.min_pay)
        if self.meals:
            query = query.where(Vacancy.meals_lodging.is_(True))
        if self.insurance:
            query = query.where(Vacancy.social_insurance.is_(True))
        return query

    def args(self) -> dict:
        out = {"q": self.q, "category": self.category}
        if self.min_pay is not None:
            out["min_pay"] = self.min_pay
        if self.meals:
            out["meals"] = 1
        if self.insurance:
            out["insurance"] = 1
        return {k: v for k, v in out.items() if v not in ("", None)}


def search_vacancies(fair_id: int, filt: VacancyFilter, page: int = 1):
    """One page of matching vacancies and the total number that match."""
    query = filt.apply(_fair_vacancies(fair_id))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.execute(
        query.order_by(Booth.number, Vacancy.id).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return rows, total


def booth_list(fair_id: int):
    return db.session.execute(
        select(Booth.number, Booth.token, Employer.name, Employer.industry)
        .join(Employer, Employer.id == Booth.employer_id)
        .where(and_(Booth.fair_id == fair_id, Booth.status == "approved"))
        .order_by(Booth.number)
    ).all()
