"""Tallies: the organiser's live board and the day's report."""
from flask import Blueprint

bp = Blueprint("tallies", __name__)

from fairsite.tallies import views  # noqa: E402,F401
