"""The read model of the organiser's tally board. Every figure comes from the counters of
fairsite.tallies (never COUNT over intents) and the fair's offer (employers, posts, average
pay), which is cached per fair and keyed by its booths' versions: a refresh costs the same
at a hundred intents or a million."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import case, func, select

from fairsite.booths.models import Booth
from fairsite.cache import VersionedCache
from fairsite.checkins.service import Headcount, headcount_of
from fairsite.clock import utcnow
from fairsite.employers.models import Employer
from fairsite.extensions import db
from fairsite.fairs.models import Fair
from fairsite.fairs.service import headline
from fairsite.intents.models import KEY_GROUPS, SOURCES
from fairsite.tallies import service as tallies

TOP_EMPLOYERS = 10


def _offers() -> VersionedCache:
    """The fair's offer changes only when a booth or one of its vacancies does, and every such
    change bumps the booth's version (fairsite.booths.service.touch_*). Kept per app."""
    return current_app.extensions.setdefault("fairsite.tally_offers", VersionedCache(size=256))


@dataclass
class Board:
    fair: Fair
    version: int
    employers: int
    posts: int
    average_pay: int
    attendees: int
    intents: int
    top_employers: list[tuple[str, str, int]] = field(default_factory=list)  # booth no, name, n
    groups: list[tuple[str, int]] = field(default_factory=list)
    sources: list[tuple[str, int]] = field(default_factory=list)
    hours: list[tuple[int, int]] = field(default_factory=list)
    headcount: Headcount = field(default_factory=lambda: Headcount(0, 0, 0))  # 进场人数
    updated_at: datetime = field(default_factory=utcnow)

    @property
    def hour_max(self) -> int:
        return max((n for _h, n in self.hours), default=0)

    @property
    def group_max(self) -> int:
        return max((n for _g, n in self.groups), default=0)

    @property
    def source_max(self) -> int:
        return max((n for _s, n in self.sources), default=0)

    @property
    def employer_max(self) -> int:
        return max((n for *_x, n in self.top_employers), default=0)


def offer(fair_id: int) -> tuple[int, int, int]:
    """(employers, posts, average pay) of the fair, recomputed only when a booth changed."""
    key = tuple(db.session.execute(
        select(
            func.count(), func.coalesce(func.sum(Booth.version), 0), func.coalesce(func.max(Booth.id), 0),
            func.coalesce(func.sum(case((Booth.status == "approved", 1), else_=0)), 0),
        ).where(Booth.fair_id == fair_id)
    ).one())
    cache = _offers()
    cached = cache.get(fair_id, key)
    if cached is None:
        h = headline(fair_id)
        cached = (h.employers, h.posts, h.average_pay)
        cache.put(fair_id, key, cached)
    return cached


def hour_range(fair: Fair, counted: dict[str, int]) -> list[int]:
    """The fair's opening hours, widened to every hour that has intents."""
    hours = {int(h) for h, n in counted.items() if n}
    start = fair.opens_at.hour if fair.opens_at else (min(hours) if hours else 8)
    end = fair.closes_at.hour if fair.closes_at else (max(hours) if hours else 17)
    if fair.closes_at and fair.closes_at.minute == 0 and end > start:
        end -= 1  # a fair closing at 17:00 has no 17:xx hour
    if hours:
        start, end = min(start, min(hours)), max(end, max(hours))
    return list(range(start, end + 1))


def build(fair: Fair, version: int | None = None) -> Board:
    scope = f"fair:{fair.id}"
    counts = tallies.read(scope)
    employers, posts, average_pay = offer(fair.id)
    by_employer = counts.get("employer", {})
    top = sorted(((int(k), n) for k, n in by_employer.items() if n > 0), key=lambda kn: (-kn[1], kn[0]))
    top = top[:TOP_EMPLOYERS]
    names = {}
    if top:
        names = {
            eid: (number or "", name)
            for eid, name, number in db.session.execute(
                select(Employer.id, Employer.name, Booth.number)
                .outerjoin(Booth, (Booth.employer_id == Employer.id) & (Booth.fair_id == fair.id))
                .where(Employer.id.in_([eid for eid, _n in top]))
            )
        }
    by_hour = counts.get("hour", {})
    return Board(
        fair=fair,
        version=counts.get("version", {}).get("", 0) if version is None else version,
        employers=employers, posts=posts, average_pay=average_pay,
        attendees=counts.get("attendees", {}).get("", 0),
        intents=counts.get("intents", {}).get("", 0),
        top_employers=[(*names.get(eid, ("", "")), n) for eid, n in top],
        groups=[(label, counts.get("group", {}).get(code, 0)) for code, label in KEY_GROUPS.items()],
        sources=[(label, counts.get("source", {}).get(code, 0)) for code, label in SOURCES.items()],
        hours=[(h, by_hour.get(f"{h:02d}", 0)) for h in hour_range(fair, by_hour)],
        headcount=headcount_of(counts),
    )
