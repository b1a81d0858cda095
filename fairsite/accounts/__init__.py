"""Accounts: log in and out, employer self-registration."""
from flask import Blueprint

bp = Blueprint("accounts", __name__)

from fairsite.accounts import views  # noqa: E402,F401
