"""fairsite: job fairs and livestream recruiting for district employment bureaus."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l

from fairsite import config as default_config
from fairsite import pubsub
from fairsite.database import init_db_events
from fairsite.extensions import babel, csrf, db, htmx, limiter, login_manager, migrate

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

    init_db_events()
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

    from fairsite import models  # noqa: F401  (every table registered with the metadata)
    from fairsite.web import register_template_helpers

    register_template_helpers(app)
    _register_blueprints(app)
    _register_errors(app)
    _share_the_worker(app)

    from fairsite.cli import register_cli

    register_cli(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from fairsite.accounts import bp as accounts_bp
    from fairsite.fairs import bp as fairs_bp

    app.register_blueprint(accounts_bp)
    app.register_blueprint(fairs_bp)
    # Further domains register themselves here as they are built.
    for name in ("employers", "booths", "vacancies", "intents", "live", "qr", "tallies"):
        module = __import__(f"fairsite.{name}", fromlist=["bp"])
        blueprint = getattr(module, "bp", None)
        if blueprint is not None:
            app.register_blueprint(blueprint)


def _share_the_worker(app: Flask) -> None:
    """Under a gevent worker, let the other connections run before each request.

    gevent's hub otherwise serves a keep-alive connection's next request straight away, and
    under load a few clients wait seconds (p99 of 1-2.5 s measured at 64 clients on every
    route, even a bare WSGI app; 69 ms with this one yield)."""
    try:
        from gevent import monkey, sleep
    except ImportError:  # pragma: no cover - gevent is a dependency
        return
    if monkey.is_module_patched("socket"):
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
