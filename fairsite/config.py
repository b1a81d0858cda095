"""Default settings. Overridden, in order, by instance/config.py, FAIRSITE_* environment
variables and the test config (see create_app)."""

DEFAULT_SECRET_KEY = "dev-only-not-secret"

SECRET_KEY = DEFAULT_SECRET_KEY
# Empty means SQLite at instance/fairsite.sqlite.
DATABASE_URL = ""
# Empty means in-process publish/subscribe and in-memory rate limits.
REDIS_URL = ""
# Prefixes of this deployment's Redis channels and rate-limit keys, so that two sites sharing
# one Redis stay apart.
PUBSUB_PREFIX = "fairsite"
RATELIMIT_KEY_PREFIX = "fairsite"
SQLALCHEMY_TRACK_MODIFICATIONS = False

BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"

# The public address printed under QR codes on posters, so people can tell a genuine code.
SITE_ADDRESS = ""

# Attendee device cookie: signed, HttpOnly, long-lived.
DEVICE_COOKIE_NAME = "fs_device"
DEVICE_COOKIE_MAX_AGE = 60 * 60 * 24 * 400
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
REMEMBER_COOKIE_HTTPONLY = True

WTF_CSRF_TIME_LIMIT = None

# Rate limits (Flask-Limiter notation).
RATELIMIT_HEADERS_ENABLED = False
LOGIN_RATE_LIMIT = "10 per minute"
INTENT_LIMIT_PER_PHONE = "20 per hour"
INTENT_LIMIT_PER_DEVICE = "20 per hour"
INTENT_LIMIT_PER_IP = "2000 per hour"

# Version of the consent text attendees agree to; stored with each consent.
CONSENT_VERSION = "2026-11-v1"

# Server-Sent Events heartbeat, seconds.
SSE_HEARTBEAT = 15
# A live session's counts go out to its viewers at most this often, seconds.
LIVE_COUNTS_EVERY = 1.0
