"""The one place that reads htmx request headers: render a whole page or just its fragment,
answer writes the htmx way or the plain-form way, answer failures so that a person sees them
(an error fragment for htmx, a staff session that ended sent to log in and back), render what
every viewer shares, name downloads safely, and the template filters every page uses."""
from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import date
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin, current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from htmx_flask import make_response as hx_make_response
from markupsafe import Markup
from wtforms import ValidationError

from fairsite.clock import local_time
from fairsite.extensions import login_manager
from fairsite.headers import for_staff
from fairsite.i18n import current_locale


def wants_fragment() -> bool:
    """True for an htmx request that swaps part of a page (not boosted, not history restore)."""
    hx = request.htmx
    return bool(hx) and not hx.boosted and not hx.history_restore_request


def is_htmx() -> bool:
    return bool(request.htmx)


def render(full: str, fragment: str | None = None, status: int = 200, /, **context) -> Response:
    """Render `fragment` for an htmx swap, else the `full` page (which includes the fragment).
    Positional-only, so that context names such as `page` or `status` stay free."""
    template = fragment if fragment and wants_fragment() else full
    return page_or_fragment(render_template(template, **context), status)


def page_or_fragment(html: str, status: int = 200) -> Response:
    """An answer whose body depended on wants_fragment(): it says so (Vary: HX-Request), so a
    cache never hands the fragment to a full page load."""
    response = hx_make_response(html, status)
    response.vary.add("HX-Request")
    return response


def unless_modified(etag: str, build: Callable[[], Response]) -> Response:
    """A 304 when the client already holds `etag`, else the response `build` makes. The caller
    computes `etag` from a version number before any other query, so an unchanged page costs
    one indexed read. Both answers carry the ETag, no-cache and Vary: HX-Request. The ETag is
    weak: it names the content whatever its encoding, so a browser holding the brotli or gzip
    answer still gets its 304 from this check (Flask-Compress would suffix a strong one)."""
    # The same version reads differently in each language.
    etag = f"{etag}.{current_locale()}"
    response = Response(status=304) if request.if_none_match.contains_weak(etag) else build()
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = "no-cache"
    response.vary.add("HX-Request")
    return response


def after_write(
    location: str, fragment: str | None = None, /, *, reswap: str | None = None,
    trigger: str | dict | None = None, **context,
) -> Response:
    """The answer to a successful POST: the new fragment for htmx, a 303 redirect otherwise."""
    if is_htmx() and fragment:
        response = hx_make_response(render_template(fragment, **context), trigger=trigger)
        if reswap:
            # Set by hand: htmx-flask's make_response rejects some valid values.
            response.headers["HX-Reswap"] = reswap
        response.vary.add("HX-Request")
        return response
    if is_htmx():
        return hx_make_response("", redirect=location)
    return redirect(location, code=303)


# Stands in for the idempotency key of each intent button in HTML rendered for everybody
# (`sign_keys=True` below); fill_sign_keys() makes it this request's own. The colon keeps an
# unfilled placeholder from ever passing for a key.
SIGN_KEY_PLACEHOLDER = "__fs:sign_key__"
_SIGN_KEY_SLOT = re.compile(re.escape(SIGN_KEY_PLACEHOLDER) + r"\d*")


def fill_sign_keys(html: str) -> str:
    """Each intent button's key in a shared render, made for this request (one random part
    per page, the vacancy id after it: a key per button)."""
    if SIGN_KEY_PLACEHOLDER not in html:
        return html
    return html.replace(SIGN_KEY_PLACEHOLDER, secrets.token_urlsafe(18) + "-")


def without_sign_keys(html: str) -> str:
    """A shared render for a phone the site does not know yet: its buttons get no key (the
    short form they open makes one; static/js/failsafe.js makes one at an offline tap)."""
    return _SIGN_KEY_SLOT.sub("", html) if SIGN_KEY_PLACEHOLDER in html else html


def render_shared(template: str, csrf_token: str = "", *, sign_keys: bool = False, **context) -> str:
    """Render once for everybody (a cached booth page, a live card sent to every viewer): no
    logged-in user, no flashed messages, and `csrf_token` in place of the viewer's own token
    (a placeholder the caller replaces per request, or "" where htmx sends each viewer's own
    token in a header). Intent buttons get SIGN_KEY_PLACEHOLDER keys with `sign_keys` (the
    caller fills them per request), else none (static/js/fairsite.js makes one at the tap)."""
    context.setdefault("new_sign_key", (lambda vacancy_id=None: f"{SIGN_KEY_PLACEHOLDER}{vacancy_id}")
                       if sign_keys else (lambda vacancy_id=None: ""))
    return render_template(
        template, csrf_token=lambda: csrf_token, current_user=AnonymousUserMixin(),
        get_flashed_messages=lambda **_kw: [], shared=True, **context,
    )


# --- requests a view checks itself (csrf.exempt) --------------------------------------------

def has_token() -> bool:
    """Whether this phone's session holds a CSRF token already (it was shown a form): its pages
    carry that token, so what it sends later (a tap kept offline) can be checked. A phone without
    one gets the pages every phone shares, and no session is begun for it."""
    return current_app.config["WTF_CSRF_FIELD_NAME"] in session


def own_request() -> bool:
    """For a view exempt from the global CSRF check because the page it is posted from is
    shared byte for byte and has no token (the booth page of a first scan): whether this
    request is the phone's own. Its CSRF token, if it sends one; else the browser's word that
    it came from a page of this site (Sec-Fetch-Site where it sends one, else the Origin, else
    the Referer), which another site's form cannot give."""
    if not current_app.config["WTF_CSRF_ENABLED"]:
        return True
    token = request.form.get("csrf_token") or request.headers.get("X-CSRFToken")
    if token:
        try:
            validate_csrf(token)
            return True
        except ValidationError:
            pass
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    own = request.host_url.rstrip("/")
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin == own
    referer = request.headers.get("Referer") or ""
    return referer == own or referer.startswith(own + "/")


# --- failures a person must see ------------------------------------------------------------
#
# htmx swaps error answers too (responseHandling in templates/base.html): an error meant for a
# fragment comes as errors/_error.html, marked X-Fs-Error, which static/js/fairsite.js puts in
# a message box beside what the person tapped (their form stays as they typed it).

def error_answer(status: int, title: str, message: str, *, action: str = "") -> Response:
    """An error as a page, or as a fragment for an htmx swap. `action`: the next step offered
    ("retry", "reload", "login" or "" for the way home)."""
    if not action:
        action = "retry" if status >= 500 or status == 429 else ""
    if wants_fragment():
        html = render_template("errors/_error.html", code=status, title=title, message=message,
                               action=action)
        response = page_or_fragment(html, status)
        response.headers["X-Fs-Error"] = str(status)
        return response
    html = render_template("errors/error.html", code=status, title=title, message=message,
                           action=action)
    return page_or_fragment(html, status)


def current_page() -> str:
    """The path (and query) of the page the person is on: for an htmx request the page that
    sent it, for a plain form post the page the form was on, else this request's own."""
    if is_htmx():
        url = request.headers.get("HX-Current-URL", "")
    elif request.method == "GET":
        url = request.full_path
    else:
        url = request.referrer or ""
    try:
        parts = urlsplit(url)
    except ValueError:  # "http://[": a header anyone can write
        return ""
    if parts.netloc and parts.netloc != request.host:
        return ""
    path = parts.path or ""
    if not path.startswith("/") or path.startswith("//"):
        return ""
    return path + (f"?{parts.query}" if parts.query else "")


def _login_url() -> str:
    target = current_page()
    return url_for(login_manager.login_view, next=target or None)


def _is_event_stream() -> bool:
    return request.accept_mimetypes.best == "text/event-stream"


def login_again(message: str | None = None) -> Response:
    """A staff page asked for without a (live) login. A page: to the login page and back. An
    htmx request: the whole page goes there (HX-Redirect), never a login form inside a
    fragment. An event stream: a 401 that ends it (the page then polls, and that poll comes
    here as htmx)."""
    if _is_event_stream():
        return Response(status=401)
    if message or is_htmx():
        flash(message or _("登录已失效（可能已在别处退出），请重新登录。"), "error")
    else:
        flash(str(login_manager.login_message), login_manager.login_message_category)
    url = _login_url()
    if is_htmx():
        response = hx_make_response(
            render_template("errors/_error.html", code=401, title=_("需要重新登录"),
                            message=_("登录已失效，正在打开登录页面…"), action="login", login_url=url),
            401,
        )
        response.headers["HX-Redirect"] = url
        response.headers["X-Fs-Error"] = "401"
        response.vary.add("HX-Request")
        return response
    return redirect(url)


def _csrf_failed(error: CSRFError) -> Response:
    """The form's token no longer matches the session: most often the session ended (logged
    out in another tab, cookies cleared, a new day). Staff are led to log in again and back;
    everybody else is told to reload the page, with what they typed still in it."""
    if for_staff() and request.blueprint != "accounts" and not current_user.is_authenticated:
        return login_again(_("登录已失效，刚才的操作没有保存。请重新登录后再试。"))
    return error_answer(400, _("页面已过期"), _("页面已过期，刚才的操作没有保存。请刷新页面后再试一次。"),
                        action="reload")


# What must not reach a Content-Disposition file name: control characters (CR/LF end the
# header), quotes, path separators, characters Windows refuses, bidi and zero-width marks.
_UNSAFE_IN_NAME = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]+')


def download_name(stem: str, extension: str, max_length: int = 80) -> str:
    """A safe file name for a download, from text people typed (a fair's title...)."""
    cleaned = " ".join(_UNSAFE_IN_NAME.sub("_", stem).split())[:max_length].strip(" ._")
    return f"{cleaned or 'download'}.{extension}"


def money(value: int | float | None) -> str:
    """Whole yuan with the reader's grouping ("4,000"), through Babel."""
    if value is None:
        return ""
    return format_decimal(round(value))


def num(value) -> str:
    """A count with thousands separators ("5,271"); anything else (a placeholder) as it is."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else str(value)
    return format_decimal(round(value))


def label(text) -> str:
    """A label before its value: "地点：" in Chinese, "Place: " in English."""
    # Markup, so that a label that is already safe HTML (a template's _()) is not escaped twice.
    return Markup("{0}{1}").format(text, _("："))


def paren(text) -> str:
    """An aside in brackets: "（共 3 个）" in Chinese, " (3 in all)" in English."""
    return Markup(_("（%(text)s）")) % {"text": text}


def day(value: date | None) -> str:
    """A calendar date in the reader's language (2026年3月3日, Mar 3, 2026), through Babel."""
    return "" if value is None else format_date(value, "medium")


def pay_range(vacancy) -> str:
    # gettext outside the f-string: the extractor does not look inside one.
    per_month = _("元/月")
    if vacancy.pay_min == vacancy.pay_max:
        return f"{money(vacancy.pay_min)} {per_month}"
    return f"{money(vacancy.pay_min)}–{money(vacancy.pay_max)} {per_month}"


def mask_phone(phone: str | None) -> str:
    if not phone or len(phone) < 7:
        return phone or ""
    if phone[0] not in "0123456789":
        return ""  # an erased attendee's placeholder ("x" and the id) is no number to show
    return f"{phone[:3]}****{phone[-4:]}"


def init_app(app: Flask) -> None:
    login_manager.unauthorized_handler(login_again)
    app.register_error_handler(CSRFError, _csrf_failed)
    app.jinja_env.filters.update(
        money=money, num=num, pay_range=pay_range, mask_phone=mask_phone, local_time=local_time,
        day=day, label=label, paren=paren,
    )
