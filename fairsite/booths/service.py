"""Booth helpers other domains use: the QR token's form, the booth page's version (its cache
key), and what a booth's poster prints.

The booth page a QR opens is rendered once per version of the booth (see booths/public.py).
`Booth.version` is the key; whoever changes what the page shows bumps it with one of the
touch_* functions, inside their own transaction, so that every server process sees the change
at its next request:
- touch_booth(booth_id): the booth itself (approved, rejected, renumbered, vacancies placed or
  removed at it, reordered);
- touch_booths_of_vacancy(vacancy_id): a vacancy was edited, opened or closed;
- touch_employer(employer_id): the employer's name or contact changed;
- touch_fair(fair_id): the fair changed (title, status: opened, closed...).
"""
from __future__ import annotations

import re

from sqlalchemy import select, update

from fairsite.booths.models import Booth, BoothVacancy
from fairsite.extensions import db
from fairsite.qr.service import qr_svg
from fairsite.urls import public_url
from fairsite.vacancies.models import Vacancy

# Booth tokens are URL-safe base64 (models.new_token); anything else is never looked up.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,40}")
# Vacancies a booth's A4 poster lists: eight still fit the sheet (two columns past four).
POSTER_VACANCIES = 8


def valid_token(token: str | None) -> bool:
    return bool(token) and _TOKEN.fullmatch(token) is not None


def touch_booth(booth_id: int) -> None:
    db.session.execute(
        update(Booth).where(Booth.id == booth_id).values(version=Booth.version + 1)
    )


def touch_booths_of_vacancy(vacancy_id: int) -> None:
    placed = select(BoothVacancy.booth_id).where(BoothVacancy.vacancy_id == vacancy_id)
    db.session.execute(
        update(Booth).where(Booth.id.in_(placed)).values(version=Booth.version + 1)
    )


def touch_employer(employer_id: int) -> None:
    db.session.execute(
        update(Booth).where(Booth.employer_id == employer_id).values(version=Booth.version + 1)
    )


def touch_fair(fair_id: int) -> None:
    db.session.execute(
        update(Booth).where(Booth.fair_id == fair_id).values(version=Booth.version + 1)
    )


# ---- posters (the employer's one booth, the organiser's print of every booth) ----------------

def booth_url(booth: Booth) -> str:
    """The address a booth's QR code opens."""
    return public_url("booths.show", token=booth.token)


def booth_qr(booth: Booth) -> str:
    return qr_svg(booth_url(booth))


def poster_vacancies(booth: Booth) -> list[Vacancy]:
    return [v for v in booth.vacancies if v.is_open][:POSTER_VACANCIES]
