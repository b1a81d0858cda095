"""Booths: the attendee's booth page (public), employers' applications (views), organisers' approvals and posters (manage)."""
from flask import Blueprint

bp = Blueprint("booths", __name__)

from fairsite.booths import manage, public, views  # noqa: E402,F401
