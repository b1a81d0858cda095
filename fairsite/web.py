"""The one place that reads htmx request headers: render a whole page or just its fragment,
answer writes the htmx way or the plain-form way, render what every viewer shares, name
downloads safely, and the template filters every page uses."""
from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask, Response, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin
from htmx_flask import make_response as hx_make_response

from fairsite.clock import local_time


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
    one indexed read. Both answers carry the ETag, no-cache and Vary: HX-Request."""
    response = Response(status=304) if request.if_none_match.contains(etag) else build()
    response.set_etag(etag)
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


def render_shared(template: str, csrf_token: str = "", **context) -> str:
    """Render once for everybody (a cached booth page, a live card sent to every viewer): no
    logged-in user, no flashed messages, and `csrf_token` in place of the viewer's own token
    (a placeholder the caller replaces per request, or "" where htmx sends each viewer's own
    token in a header)."""
    return render_template(
        template, csrf_token=lambda: csrf_token, current_user=AnonymousUserMixin(),
        get_flashed_messages=lambda **_kw: [], shared=True, **context,
    )


# What must not reach a Content-Disposition file name: control characters (CR/LF end the
# header), quotes, path separators, characters Windows refuses, bidi and zero-width marks.
_UNSAFE_IN_NAME = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]+')


def download_name(stem: str, extension: str, max_length: int = 80) -> str:
    """A safe file name for a download, from text people typed (a fair's title...)."""
    cleaned = " ".join(_UNSAFE_IN_NAME.sub("_", stem).split())[:max_length].strip(" ._")
    return f"{cleaned or 'download'}.{extension}"


def money(value: int | float | None) -> str:
    if value is None:
        return ""
    return f"{round(value):,}"


def pay_range(vacancy) -> str:
    if vacancy.pay_min == vacancy.pay_max:
        return f"{money(vacancy.pay_min)} {_('元/月')}"
    return f"{money(vacancy.pay_min)}–{money(vacancy.pay_max)} {_('元/月')}"


def mask_phone(phone: str | None) -> str:
    if not phone or len(phone) < 7:
        return phone or ""
    if phone[0] not in "0123456789":
        return ""  # an erased attendee's placeholder ("x" and the id) is no number to show
    return f"{phone[:3]}****{phone[-4:]}"


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        money=money, pay_range=pay_range, mask_phone=mask_phone, local_time=local_time
    )
