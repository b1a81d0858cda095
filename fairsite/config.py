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
# The spreadsheet import (fairsite/imports/): the one request allowed a bigger body (a filled
# template of 5,000 rows is about 300 KB), and the rows each sheet may hold.
IMPORT_MAX_BYTES = 4 * 1024 * 1024
IMPORT_MAX_ROWS = 5000

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

# The bureau's name for its site: every page title carries it (WeChat shows the title in its
# bar and on a share card).
SITE_NAME = "就业服务招聘平台"

# Days after a person's last fair or intent when `flask purge` erases their name, number,
# hometown and device cookies (PIPL: keep personal data no longer than its purpose needs).
# A year covers the follow-up after a fair (interviews, starting work, the employer's call
# back) and the year's reports the bureau sends upward; the anonymous counts stay for good.
PERSONAL_DATA_RETENTION_DAYS = 365
# Days an intent button's idempotency key (sign_keys) is kept after its signing, so that a
# retry or a signing a phone kept offline is answered as the first one. `flask purge` drops
# older keys (a month covers the next visit of any phone; a copy sent later still signs no
# second intent: one intent per person and vacancy), so the table stays the size of a month.
SIGN_KEY_DAYS = 30

# Follow-up to hire (fairsite/followups/): hours after which a person whose intent is still
# 待联系 has waited too long (the employer's dashboard, the bureau's call list, the ranking of
# employers who have not called), and the key groups (KEY_GROUPS codes) the bureau calls back
# itself, in the order it cares about them.
FOLLOW_UP_HOURS = 48
CALL_LIST_GROUPS = ("difficulty", "poverty")

# Light on the wire (README "Light on the wire"): pages are compressed by the app server itself,
# brotli for browsers that take it, else gzip; every response says Vary: Accept-Encoding.
# Streamed responses never are: an event stream must reach the viewer event by event (a
# compressor holds bytes back), and the CSV export streams row by row.
COMPRESS_ALGORITHM = ["br", "gzip"]
COMPRESS_BR_LEVEL = 5
COMPRESS_LEVEL = 6
COMPRESS_MIN_SIZE = 500
COMPRESS_STREAMS = False
# Static files: hashed, precompressed copies made by `python -m fairsite.assets` ("" is
# build/static/ beside the package); the plain names' cache lifetime, seconds (hashed names
# are cached a year, immutable).
STATIC_BUILD_FOLDER = ""
STATIC_MAX_AGE = 60

# Server-Sent Events heartbeat, seconds.
SSE_HEARTBEAT = 15
# Event streams one client address may hold open at once in one server process (0: no cap);
# past it a stream answers 429 and the page polls instead. Many phones behind one park Wi-Fi
# or carrier NAT share an address: those past the cap still see updates, by polling.
SSE_STREAMS_PER_ADDRESS = 50
# A live session's counts go out to its viewers at most this often, seconds.
LIVE_COUNTS_EVERY = 1.0

# ---- SMS (fairsite/sms/; README "Text messages") ----
# "console": every message is logged and shown on /manage/sms, nothing leaves the machine.
# "aliyun": Alibaba Cloud SMS SendSms over HTTPS, signed with the keys below.
SMS_BACKEND = "console"
SMS_ALIYUN_ACCESS_KEY_ID = ""
SMS_ALIYUN_ACCESS_KEY_SECRET = ""
# Tests and the bench point it at a local server that checks requests as Aliyun does.
SMS_ALIYUN_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
SMS_ALIYUN_REGION = "cn-hangzhou"
SMS_TIMEOUT = 10.0
# The approved signature (短信签名) and the approved template code of each purpose (mainland
# rules: every text goes out under an approved signature and template).
SMS_SIGN_NAME = "就业服务"
SMS_TEMPLATES = {
    "invite": "SMS_000000001",
    "desk": "SMS_000000002",
    "digest": "SMS_000000004",
    "push": "SMS_000000003",
    "verify": "SMS_000000005",
}
# The secret last part of the delivery-receipt address Aliyun pushes to
# (SITE_ADDRESS/sms/receipts/aliyun/<token>); empty: no receipts, texts stay "sent".
SMS_RECEIPT_TOKEN = ""
# When employers who asked for it get the day's digest (Beijing hour, 0-23).
SMS_DIGEST_HOUR = 18
# Texts one phone may get in one Beijing day, and the organiser's default monthly budget in
# texts (the organiser sets each month's on /manage/sms).
SMS_DAILY_CAP_PER_PHONE = 5
SMS_MONTHLY_BUDGET = 2000
# Price of one text in fen, only to show the budget in yuan as well.
SMS_PRICE_FEN = 5
# Tries of one message on transient errors (throttled, network, 5xx) before it fails; the
# wait doubles after each try, from SMS_RETRY_BASE seconds.
SMS_MAX_TRIES = 5
SMS_RETRY_BASE = 30
# The task queue's storage (Huey): "" is beside the SQLite database
# (instance/fairsite-sms-queue.sqlite), or Redis when REDIS_URL is set. Consumer threads of
# `flask sms worker`.
SMS_QUEUE_PATH = ""
SMS_WORKERS = 2
# Verification codes before a phone's first signing at a fair that asks for them
# (fairs.verify_phone): minutes a code lasts, wrong tries before it is void, codes one phone
# and one address may get per hour, seconds before the same phone gets a new one.
SMS_CODE_MINUTES = 10
SMS_CODE_MAX_TRIES = 5
SMS_CODE_LIMIT_PER_PHONE = 3
SMS_CODE_LIMIT_PER_IP = 30
SMS_CODE_RESEND_SECONDS = 60
# Vacancy pushes (精准推送): the wording version of the push consent stored with each yes,
# and the most people one push may reach (the monthly budget and daily caps apply too; one
# push is queued in its request, ~700 people a second on SQLite, so 5,000 take ~7 s; sending
# the same announcement again reaches the next ones).
PUSH_CONSENT_VERSION = "2026-12-push-v1"
PUSH_MAX_RECIPIENTS = 5000
