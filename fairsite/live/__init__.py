"""Live sessions (直播带岗): host console and viewer page."""
from flask import Blueprint

bp = Blueprint("live", __name__)

from fairsite.live import views  # noqa: E402,F401
