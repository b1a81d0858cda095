"""Fairs: the public home and fair pages (views.py); organisers' management comes apart."""
from flask import Blueprint

bp = Blueprint("fairs", __name__)

from fairsite.fairs import views  # noqa: E402,F401
