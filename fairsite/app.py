"""The app factory: create_app() loads the configuration, binds the extensions, and registers
every blueprint by name. The top floor: the only module that imports every domain."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response
from flask_babel import lazy_gettext as _l
from gevent import sleep
from werkzeug.exceptions import HTTPException

# The top floor: the only module that knows every domain. Models first (every table in the
# metadata), then each audience's blueprint, by name.
from fairsite import assets, headers, i18n, pubsub, sql, urls, web
from fairsite import config as default_config
from fairsite.accounts import manage as accounts_manage
from fairsite.accounts import models as _accounts_models  # noqa: F401
from fairsite.accounts import public as accounts_public
from fairsite.accounts.service import may_open
from fairsite.audit import manage as audit_manage
from fairsite.audit import models as _audit_models  # noqa: F401
from fairsite.audit.service import RedactPhones
from fairsite.booths import employer as booths_employer
from fairsite.booths import front as booths_front
from fairsite.booths import manage as booths_manage
from fairsite.booths import models as _booths_models  # noqa: F401
from fairsite.booths import public as booths_public
from fairsite.booths.service import booth_qr, booth_url, poster_vacancies
from fairsite.campaigns import manage as campaigns_manage
from fairsite.campaigns import models as _campaigns_models  # noqa: F401
from fairsite.checkins import manage as checkins_manage
from fairsite.checkins import models as _checkins_models  # noqa: F401
from fairsite.checkins import public as checkins_public
from fairsite.cli import register_cli
from fairsite.elder import public as elder_public
from fairsite.employers import employer as employers_employer
from fairsite.employers import manage as employers_manage
from fairsite.employers import models as _employers_models  # noqa: F401
from fairsite.employers import public as employers_public
from fairsite.extensions import compress, csrf, db, htmx, limiter, login_manager, migrate
from fairsite.fairs import manage as fairs_manage
from fairsite.fairs import models as _fairs_models  # noqa: F401
from fairsite.fairs import public as fairs_public
from fairsite.fairs.models import KIND_LABELS, STATUS_LABELS, TRANSITIONS
from fairsite.followups import manage as followups_manage
from fairsite.followups import models as _followups_models  # noqa: F401
from fairsite.group_commit import gevent_active
from fairsite.imports import manage as imports_manage
from fairsite.imports import models as _imports_models  # noqa: F401
from fairsite.intents import employer as intents_employer
from fairsite.intents import manage as intents_manage
from fairsite.intents import models as _intents_models  # noqa: F401
from fairsite.intents import public as intents_public
from fairsite.intents.models import KEY_GROUPS, SOURCES, STATUSES
from fairsite.languages import public as languages_public
from fairsite.live import manage as live_manage
from fairsite.live import models as _live_models  # noqa: F401
from fairsite.live import public as live_public
from fairsite.live.service import embed_origins
from fairsite.numbers import IdConverter
from fairsite.offline import public as offline_public
from fairsite.qr import public as qr_public
from fairsite.sms import employer as sms_employer
from fairsite.sms import manage as sms_manage
from fairsite.sms import models as _sms_models  # noqa: F401
from fairsite.sms import public as sms_public
from fairsite.sms import queue as sms_queue
from fairsite.tallies import manage as tallies_manage
from fairsite.tallies import models as _tallies_models  # noqa: F401
from fairsite.tallies import service as tallies_service
from fairsite.urls import site_host
from fairsite.vacancies import employer as vacancies_employer
from fairsite.vacancies import models as _vacancies_models  # noqa: F401
from fairsite.vacancies.models import CATEGORIES, EDUCATION

BLUEPRINTS = (
    accounts_public.bp, accounts_manage.bp,
    employers_public.bp, employers_employer.bp, employers_manage.bp,
    fairs_public.bp, fairs_manage.bp,
    booths_public.bp, booths_employer.bp, booths_manage.bp,
    vacancies_employer.bp,
    intents_public.bp, intents_employer.bp, intents_manage.bp,
    live_public.bp, live_manage.bp,
    qr_public.bp,
    offline_public.bp,
    elder_public.bp,
    languages_public.bp,
    tallies_manage.bp,
    checkins_public.bp, checkins_manage.bp,
    campaigns_manage.bp,
    audit_manage.bp,
    imports_manage.bp,
    followups_manage.bp,
    sms_public.bp, sms_employer.bp, sms_manage.bp,
)

# Public pages showing one person's data: never stored by a browser or proxy (nor is any
# staff page: fairsite/headers.py).
PRIVATE_ENDPOINTS = ("intents.me", "intents.withdraw", "intents.delete_me", "intents.sign",
                     "intents.done", "employers.register",
                     "checkins.checkin", "checkins.check_in")

ENV_PREFIX = "FAIRSITE_"


def _database_url(app: Flask) -> str:
    url = app.config.get("DATABASE_URL") or ""
    if not url:
        return "sqlite:///" + os.path.join(app.instance_path, "fairsite.sqlite")
    # psycopg 3 is the driver; accept the usual spellings of a PostgreSQL URL.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _load_config(app: Flask, test_config: dict | None) -> None:
    app.config.from_object(default_config)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env(ENV_PREFIX.rstrip("_"))
    if test_config:
        app.config.update(test_config)
    app.config["SQLALCHEMY_DATABASE_URI"] = _database_url(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"connect_args": {"timeout": 15}})
    else:
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    # A failed statement's error (logged, or shown by a debugger) must not quote its
    # parameters: they hold attendees' names and phone numbers.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("hide_parameters", True)
    redis_url = app.config.get("REDIS_URL") or ""
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
    if (
        app.config["SECRET_KEY"] == default_config.DEFAULT_SECRET_KEY
        and not app.debug
        and not app.testing
    ):
        raise RuntimeError(
            "fairsite refuses to start with the default SECRET_KEY: set one in "
            "instance/config.py or FAIRSITE_SECRET_KEY (make run writes one for you)."
        )


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_relative_config=True,
        # FAIRSITE_INSTANCE_PATH: another instance folder (its config.py, SQLite file, uploads,
        # queue); the tests use one of their own, never the developer's instance/.
        instance_path=os.environ.get("FAIRSITE_INSTANCE_PATH") or None,
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _load_config(app, test_config)
    # Every <int:...> in a route is an id: ASCII digits within the columns' range, so an id
    # like 2147483648 or "١٢" is a 404 before any query (set before the routes are added).
    app.url_map.converters["int"] = IdConverter

    sql.init_app(app)
    db.init_app(app)
    tallies_service.init_app(app)  # counters written once per transaction, at its commit
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("请先登录。")
    htmx.init_app(app)
    csrf.init_app(app)
    # Simplified Chinese is the source language; zh-Hant and English are catalogues, chosen
    # by the switcher's cookie or Accept-Language (fairsite/i18n.py).
    i18n.init_app(app)
    limiter.init_app(app)
    pubsub.init_app(app)
    sms_queue.init_app(app)
    urls.init_app(app)
    # Static files (hashed names, precompressed) are answered before Flask, inside ProxyFix
    # (headers.init_app wraps it), with the same fixed headers as every page; pages compressed.
    assets.init_app(app, fixed_headers=headers.fixed_headers(embed_origins()), hsts=headers.HSTS)
    # A booth QR's first scan (no cookie) is answered before Flask, from the cached page.
    app.wsgi_app = booths_front.FrontDoor(app, app.wsgi_app, hsts=headers.HSTS,
                                          fixed_headers=headers.fixed_headers(embed_origins()))
    compress.init_app(app)
    headers.init_app(app, frame_src=embed_origins(), private_endpoints=PRIVATE_ENDPOINTS)
    web.init_app(app)

    app.jinja_env.globals.update(
        KEY_GROUPS=KEY_GROUPS, SOURCES=SOURCES, INTENT_STATUSES=STATUSES,
        CATEGORIES=CATEGORIES, EDUCATION=EDUCATION,
        KIND_LABELS=KIND_LABELS, STATUS_LABELS=STATUS_LABELS, TRANSITIONS=TRANSITIONS,
        booth_url=booth_url, booth_qr=booth_qr, poster_vacancies=poster_vacancies,
        site_host=site_host,
        may_open=may_open,
    )
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    _register_errors(app)
    # No phone number in the log, whatever an error message quotes (PostgreSQL's DETAIL
    # repeats the row it refused).
    app.logger.addFilter(RedactPhones())
    _share_the_worker(app)
    register_cli(app)
    return app


def _share_the_worker(app: Flask) -> None:
    """Under a gevent worker, let the other connections run before each request.

    gevent's hub otherwise serves a keep-alive connection's next request straight away, and
    under load a few clients wait seconds (p99 of 1-2.5 s measured at 64 clients on every
    route, even a bare WSGI app; 55-69 ms with this one yield)."""
    if gevent_active():
        app.before_request(lambda: sleep(0))


def _register_errors(app: Flask) -> None:
    def page(code: int | None, title, message):
        def handler(error):
            # A failed statement leaves PostgreSQL's transaction aborted: the page itself
            # (the logged-in user, the menu) would fail in it.
            _rollback(app)
            status = code or error.code
            # A page, or for an htmx swap a fragment the page shows where the person tapped.
            response = web.error_answer(status, str(title), str(message))
            # What the error says besides its page: a 405's Allow, a 416's Content-Range...
            headers = error.get_headers() if isinstance(error, HTTPException) else []
            response.headers.extend([(k, v) for k, v in headers if k.lower() != "content-type"])
            return response

        return handler

    app.register_error_handler(400, page(400, _l("请求有误"), _l("页面已过期或提交的内容有误，请返回重试。")))
    app.register_error_handler(403, page(403, _l("无权访问"), _l("您没有权限查看这个页面。")))
    app.register_error_handler(404, page(404, _l("页面不存在"), _l("您要找的页面不存在，或已被删除。")))
    app.register_error_handler(405, page(405, _l("不能这样打开"), _l("这个地址不能直接打开，请返回上一页，用页面上的按钮操作。")))
    app.register_error_handler(413, page(413, _l("提交的内容太多"), _l("提交的内容太长了，请删减后再试。")))
    app.register_error_handler(429, page(429, _l("操作太频繁"), _l("您的操作太频繁了，请稍后再试。")))
    # Any other HTTP error (416 for a Range past the end, 415...): the same page in general
    # words, instead of Werkzeug's English one.
    client_error = page(None, _l("请求有误"), _l("这个请求无法处理，请返回上一页重试。"))
    server_trouble = page(None, _l("出错了"), _l("服务器出了点问题，请稍后再试。"))

    def any_other(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        return (client_error if error.code < 500 else server_trouble)(error)

    app.register_error_handler(HTTPException, any_other)
    server_error = page(500, _l("出错了"), _l("服务器出了点问题，请稍后再试。"))

    def last_resort(error):
        """The 500 page must not fail in its turn (a dead database, a broken template)."""
        try:
            return server_error(error)
        except Exception:
            app.logger.exception("The error page failed")
            return Response(str(_l("服务器出了点问题，请稍后再试。")), 500,
                            mimetype="text/plain")

    app.register_error_handler(500, last_resort)


def _rollback(app: Flask) -> None:
    try:
        db.session.rollback()
    except Exception:
        app.logger.warning("Rollback before an error page failed", exc_info=True)
        db.session.remove()
