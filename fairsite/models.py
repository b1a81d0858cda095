"""Imports every domain's models so that the metadata (and migrations) see all tables."""
from fairsite.accounts.models import User  # noqa: F401
from fairsite.booths.models import Booth, BoothVacancy  # noqa: F401
from fairsite.employers.models import Employer  # noqa: F401
from fairsite.fairs.models import Fair  # noqa: F401
from fairsite.intents.models import AccessLog, Attendee, Device, Intent  # noqa: F401
from fairsite.live.models import LiveItem, LiveSession  # noqa: F401
from fairsite.tallies.models import FairAttendee, Tally  # noqa: F401
from fairsite.vacancies.models import Vacancy  # noqa: F401
