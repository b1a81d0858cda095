"""Vacancies: employers create, edit, close and place them."""
from flask import Blueprint

bp = Blueprint("vacancies", __name__)

from fairsite.vacancies import views  # noqa: E402,F401
