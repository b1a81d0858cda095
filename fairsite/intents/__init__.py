"""Intents: attendees sign and manage theirs (views), employers follow up (employer), organisers register at the desk (desk)."""
from flask import Blueprint

bp = Blueprint("intents", __name__)

from fairsite.intents import desk, employer, views  # noqa: E402,F401
