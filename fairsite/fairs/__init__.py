"""Fairs: the public home and fair pages (views), organisers' management (manage)."""
from flask import Blueprint

bp = Blueprint("fairs", __name__)

from fairsite.fairs import manage, views  # noqa: E402,F401
