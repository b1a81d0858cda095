"""Employers: profile and staff accounts."""
from flask import Blueprint

bp = Blueprint("employers", __name__)

from fairsite.employers import views  # noqa: E402,F401
