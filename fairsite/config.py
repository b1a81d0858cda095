"""Default settings. Overridden, in order, by instance/config.py, FAIRSITE_* environment
variables and the test config (see create_app)."""

from datetime import timedelta

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

# The public address printed under QR codes on posters, so people can tell a genuine code;
# every absolute URL (QR codes, share links) is built on it, never on the request's Host.
# Required outside debug and tests. Requests for any other host get a 400 (Flask's
# TRUSTED_HOSTS: derived from SITE_ADDRESS, SERVER_NAME and localhost unless set here).
SITE_ADDRESS = ""
TRUSTED_HOSTS = None
# How many reverse proxies in front of the site set X-Forwarded-For/-Proto/-Host (nginx: 1).
# 0 trusts none of these headers: behind a proxy, every client would share its address.
TRUSTED_PROXY_HOPS = 0

# Attendee device cookie: signed, HttpOnly, long-lived.
DEVICE_COOKIE_NAME = "fs_device"
DEVICE_COOKIE_MAX_AGE = 60 * 60 * 24 * 400
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"
REMEMBER_COOKIE_DURATION = timedelta(days=14)
# SESSION_COOKIE_SECURE and REMEMBER_COOKIE_SECURE stay False: every cookie is marked Secure
# when the request came over HTTPS (fairsite/headers.py), so http://127.0.0.1 still works.

WTF_CSRF_TIME_LIMIT = None

# Request bodies: the longest form (a fair's 5,000-character description, percent-encoded)
# is under 50 KB; anything larger gets a 413 page before it is read.
MAX_CONTENT_LENGTH = 64 * 1024
MAX_FORM_MEMORY_SIZE = 64 * 1024
MAX_FORM_PARTS = 500

# Rate limits (Flask-Limiter notation).
RATELIMIT_HEADERS_ENABLED = False
LOGIN_RATE_LIMIT = "10 per minute"
# Failed log-ins of one login from any address (a guesser spread over many addresses).
LOGIN_ACCOUNT_RATE_LIMIT = "20 per hour"
# Employer registrations sent from one address.
REGISTER_RATE_LIMIT = "20 per hour"
INTENT_LIMIT_PER_PHONE = "20 per hour"
INTENT_LIMIT_PER_DEVICE = "20 per hour"
# Per address it must stay high: a park's whole crowd can reach us through one carrier
# address (mobile networks put thousands of phones behind one). 1,200 people behind one
# address can sign 10,000 intents an hour between them; each phone and device is held to its
# own 20 above. It only stops a script flooding the site from one machine.
INTENT_LIMIT_PER_IP = "10000 per hour"

# Version of the consent text attendees agree to; stored with each consent.
CONSENT_VERSION = "2026-11-v1"

# Days after a person's last fair or intent when `flask purge` erases their name, number,
# hometown and device cookies (PIPL: keep personal data no longer than its purpose needs).
# A year covers the follow-up after a fair (interviews, starting work, the employer's call
# back) and the year's reports the bureau sends upward; the anonymous counts stay for good.
PERSONAL_DATA_RETENTION_DAYS = 365

# Server-Sent Events heartbeat, seconds.
SSE_HEARTBEAT = 15
# Event streams one client address may hold open at once in one server process (0: no cap);
# past it a stream answers 429 and the page polls instead. Many phones behind one park Wi-Fi
# or carrier NAT share an address: those past the cap still see updates, by polling.
SSE_STREAMS_PER_ADDRESS = 50
# A live session's counts go out to its viewers at most this often, seconds.
LIVE_COUNTS_EVERY = 1.0
