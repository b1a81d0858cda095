"""The app factory: create_app() loads the configuration, binds the extensions, and registers
every blueprint by name. The top floor: the only module that imports every domain."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from gevent import sleep

# The top floor: the only module that knows every domain. Models first (every table in the
# metadata), then each audience's blueprint, by name.
from fairsite import config as default_config
from fairsite import pubsub, sql, urls, web
from fairsite.accounts import models as _accounts_models  # noqa: F401
from fairsite.accounts import public as accounts_public
from fairsite.booths import employer as booths_employer
from fairsite.booths import manage as booths_manage
from fairsite.booths import models as _booths_models  # noqa: F401
from fairsite.booths import public as booths_public
from fairsite.booths.service import booth_qr, booth_url, poster_vacancies
from fairsite.cli import register_cli
from fairsite.employers import employer as employers_employer
from fairsite.employers import models as _employers_models  # noqa: F401
from fairsite.employers import public as employers_public
from fairsite.extensions import babel, csrf, db, htmx, limiter, login_manager, migrate
from fairsite.fairs import manage as fairs_manage
from fairsite.fairs import models as _fairs_models  # noqa: F401
from fairsite.fairs import public as fairs_public
from fairsite.fairs.models import KIND_LABELS, STATUS_LABELS, TRANSITIONS
from fairsite.group_commit import gevent_active
from fairsite.intents import employer as intents_employer
from fairsite.intents import manage as intents_manage
from fairsite.intents import models as _intents_models  # noqa: F401
from fairsite.intents import public as intents_public
from fairsite.intents.models import KEY_GROUPS, SOURCES, STATUSES
from fairsite.live import manage as live_manage
from fairsite.live import models as _live_models  # noqa: F401
from fairsite.live import public as live_public
from fairsite.qr import public as qr_public
from fairsite.tallies import manage as tallies_manage
from fairsite.tallies import models as _tallies_models  # noqa: F401
from fairsite.urls import site_host
from fairsite.vacancies import employer as vacancies_employer
from fairsite.vacancies import models as _vacancies_models  # noqa: F401
from fairsite.vacancies.models import CATEGORIES, EDUCATION

BLUEPRINTS = (
    accounts_public.bp,
    employers_public.bp, employers_employer.bp,
    fairs_public.bp, fairs_manage.bp,
    booths_public.bp, booths_employer.bp, booths_manage.bp,
    vacancies_employer.bp,
    intents_public.bp, intents_employer.bp, intents_manage.bp,
    live_public.bp, live_manage.bp,
    qr_public.bp,
    tallies_manage.bp,
)

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
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _load_config(app, test_config)

    sql.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("请先登录。")
    htmx.init_app(app)
    csrf.init_app(app)
    # Chinese is the product's language; other languages follow through translations.
    babel.init_app(app, locale_selector=lambda: "zh_Hans_CN")
    limiter.init_app(app)
    pubsub.init_app(app)
    urls.init_app(app)
    web.init_app(app)

    app.jinja_env.globals.update(
        KEY_GROUPS=KEY_GROUPS, SOURCES=SOURCES, INTENT_STATUSES=STATUSES,
        CATEGORIES=CATEGORIES, EDUCATION=EDUCATION,
        KIND_LABELS=KIND_LABELS, STATUS_LABELS=STATUS_LABELS, TRANSITIONS=TRANSITIONS,
        booth_url=booth_url, booth_qr=booth_qr, poster_vacancies=poster_vacancies,
        site_host=site_host,
    )
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    _register_errors(app)
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
    def page(code: int, title, message):
        def handler(_error):
            return render_template(
                "errors/error.html", code=code, title=title, message=message
            ), code

        return handler

    app.register_error_handler(400, page(400, _l("请求有误"), _l("页面已过期或提交的内容有误，请返回重试。")))
    app.register_error_handler(403, page(403, _l("无权访问"), _l("您没有权限查看这个页面。")))
    app.register_error_handler(404, page(404, _l("页面不存在"), _l("您要找的页面不存在，或已被删除。")))
    app.register_error_handler(429, page(429, _l("操作太频繁"), _l("您的操作太频繁了，请稍后再试。")))
    app.register_error_handler(500, page(500, _l("出错了"), _l("服务器出了点问题，请稍后再试。")))
