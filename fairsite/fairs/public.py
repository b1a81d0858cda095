"""Public fair pages: the list of fairs, a fair's headline, vacancy search and booth list.

The fair page costs the same for a fair of 300 vacancies as for one of 50,000: the search walks
an index (fairsite.fairs.search), and what everybody sees is rendered once per version of the
fair page (PageState.version, moved by database triggers on every write that changes it) and
kept in this process:
- per fair: the fair itself, its headline and its booth list;
- per filter and page of results: the vacancy cards, with a slot where each intent button
  goes, and each vacancy's "我有意向" button;
- for visitors who are not logged in and have no message waiting, the whole answer (page,
  results section or next cards), with the same slots.
A request reads the version (one indexed row, with the live intent count of the headline), then
adds its own parts: the intent count, and for a known phone (device cookie) its CSRF token, a
key per button and "已登记 ✓" for the vacancies it has signed (one query; those few buttons are
rendered for the request). A phone the site does not know gets no token and no session. Logged-in staff get the
page rendered around the shared cards, with their own navigation."""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from flask import Blueprint, abort, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import select

from fairsite.cache import VersionedCache
from fairsite.extensions import db
from fairsite.fairs.models import PUBLIC_STATUSES, Fair
from fairsite.fairs.service import (
    PAY_STEPS,
    Headline,
    PageState,
    VacancyFilter,
    booth_list,
    cursor_arg,
    headline,
    page_state,
    parse_cursor,
    search_vacancies,
)
from fairsite.intents.device import current_device, signed_vacancy_ids
from fairsite.live.service import now_and_next
from fairsite.web import (
    fill_sign_keys,
    has_token,
    page_or_fragment,
    render,
    render_shared,
    wants_fragment,
    without_sign_keys,
)

bp = Blueprint("fairs", __name__)

# Stand in for the per-request parts in the cached HTML; replaced per request.
CSRF_PLACEHOLDER = "__fs_csrf_token__"
INTENTS_PLACEHOLDER = "__fs_fair_intents__"
_SLOT = re.compile(r"<!--fs-intent:(\d+)-->")
_BUTTON_END = Markup("<!--fs-button-end-->")

# What each kind of answer renders: the whole page, the results for an htmx search, the next
# cards for htmx's infinite scroll.
_TEMPLATES = {"page": "fairs/show.html", "section": "fairs/_vacancies.html", "more": "fairs/_vacancy_more.html"}


def _slot(vacancy) -> Markup:
    return Markup(f"<!--fs-intent:{vacancy.id}-->")


@dataclass(frozen=True)
class Slotted:
    """HTML every viewer shares, cut where the intent buttons go."""

    parts: tuple  # str (HTML) and int (a vacancy id: its intent button goes there)
    buttons: dict  # vacancy id -> its "我有意向" button (none when the fair takes no intents)
    fair_id: int

    @classmethod
    def cut(cls, html: str, buttons: dict, fair_id: int) -> Slotted:
        return cls(tuple(int(p) if i % 2 else p for i, p in enumerate(_SLOT.split(html))), buttons, fair_id)

    def fill(self, intents: int | None = None) -> str:
        """This request's HTML: its buttons, its CSRF token (and the headline's intent count)."""
        device = current_device() if self.buttons else None
        signed = signed_vacancy_ids(list(self.buttons), device) if device else ()
        out = []
        for part in self.parts:
            if not isinstance(part, int):
                out.append(part)
            elif part in signed:
                # "已登记 ✓": the button's other face, which shows only the vacancy's id.
                out.append(render_template("intents/_button.html", vacancy={"id": part},
                                           where={"fair": self.fair_id}, signed=True))
            elif part in self.buttons:
                out.append(self.buttons[part])
        html = "".join(out)
        if device is None and not (self.buttons and has_token()):
            # A phone the site does not know (or a page without buttons): no token, no session
            # cookie, no keys; its "我有意向" opens the short form, which has them.
            html = without_sign_keys(html.replace(CSRF_PLACEHOLDER, ""))
        else:
            html = fill_sign_keys(html.replace(CSRF_PLACEHOLDER, generate_csrf()))
        return html if intents is None else html.replace(INTENTS_PLACEHOLDER, str(intents))


@dataclass(frozen=True)
class FairHead:
    """What the page shows of the fair itself: its columns, read once per version."""

    id: int
    title: str
    campaign: str
    venue: str
    date: object
    opens_at: object
    closes_at: object
    description: str
    status: str


@dataclass(frozen=True)
class SharedFair:
    fair: FairHead
    headline: Headline  # its attendee and intent counts are replaced by the live ones
    booths: Markup


@dataclass(frozen=True)
class SharedResults:
    cards: Markup  # the page of vacancy cards, with the slots and the CSRF placeholder
    buttons: dict  # vacancy id -> its "我有意向" button
    count: int | None
    more: bool
    filters: Markup | None  # the search form as this filter fills it (not for infinite scroll)

    @property
    def count_text(self) -> str:
        if self.count is None:
            return ""
        return f"{self.count:,}+" if self.more else f"{self.count:,}"


# Kept in this process, keyed by the fair page's version. A page of results with its buttons,
# or a whole page, is some 30-60 KB: a few hundred of each at a time.
fair_parts = VersionedCache(256)
result_parts = VersionedCache(256)
answers = VersionedCache(256)


def _shared_fair(fair_id: int, state: PageState) -> SharedFair:
    shared = fair_parts.get(fair_id, state.version)
    if shared is None:
        fair = db.session.get(Fair, fair_id)
        head = FairHead(fair.id, fair.title, fair.campaign, fair.venue, fair.date, fair.opens_at,
                        fair.closes_at, fair.description, fair.status)
        booths = Markup(render_shared("fairs/_booths.html", booths=booth_list(fair_id)))
        shared = SharedFair(head, headline(fair_id), booths)
        fair_parts.put(fair_id, state.version, shared)
    return shared


def _shared_results(fair_id: int, state: PageState, filt: VacancyFilter, after, with_count: bool) -> SharedResults:
    key = (fair_id, tuple(sorted(filt.args().items())), after, with_count)
    shared = result_parts.get(key, state.version)
    if shared is not None:
        return shared
    fair = db.session.get(Fair, fair_id)
    results = search_vacancies(fair_id, filt, after, with_count)
    next_url = None
    if results.after is not None:
        next_url = url_for("fairs.show", fair_id=fair_id, after=cursor_arg(results.after), **filt.args())
    cards = render_shared("fairs/_vacancy_page.html", CSRF_PLACEHOLDER, fair=fair, results=results,
                          after=after, next_url=next_url, intent_slot=_slot)
    buttons = {}
    if fair.takes_intents and results.rows:
        unsigned = render_shared("fairs/_vacancy_buttons.html", CSRF_PLACEHOLDER, sign_keys=True, fair=fair,
                                 results=results, button_end=_BUTTON_END).split(_BUTTON_END)
        buttons = {v.id: unsigned[i] for i, (v, *_rest) in enumerate(results.rows)}
    filters = None
    if with_count:
        filters = Markup(render_shared("fairs/_filters.html", fair=fair, filt=filt, pay_steps=PAY_STEPS))
    shared = SharedResults(Markup(cards), buttons, results.count, results.more, filters)
    result_parts.put(key, state.version, shared)
    return shared


def _context(fair_id: int, state: PageState, filt: VacancyFilter, after, kind: str, cards: Markup,
             intents) -> dict:
    results = _shared_results(fair_id, state, filt, after, with_count=kind != "more")
    shared = _shared_fair(fair_id, state)
    context = dict(fair=shared.fair, filt=filt, after=after, results=results, cards=cards)
    if kind == "page":
        context.update(headline=dataclasses.replace(shared.headline, attendees=state.attendees, intents=intents),
                       booths=shared.booths, filters=results.filters)
    return context


def _answer(fair_id: int, state: PageState, filt: VacancyFilter, after, kind: str) -> Slotted:
    """The whole answer of `kind`, as every visitor who is not logged in sees it."""
    key = (fair_id, tuple(sorted(filt.args().items())), after, kind)
    answer = answers.get(key, state.version)
    if answer is None:
        results = _shared_results(fair_id, state, filt, after, with_count=kind != "more")
        context = _context(fair_id, state, filt, after, kind, results.cards, INTENTS_PLACEHOLDER)
        answer = Slotted.cut(render_shared(_TEMPLATES[kind], CSRF_PLACEHOLDER, **context), results.buttons, fair_id)
        answers.put(key, state.version, answer)
    return answer


def _public_state(fair_id: int) -> PageState:
    state = page_state(fair_id)
    if state is None or not state.is_public:
        abort(404)
    return state


@bp.get("/")
def index():
    fairs = db.session.scalars(
        select(Fair).where(Fair.status.in_(PUBLIC_STATUSES)).order_by(Fair.date.desc(), Fair.id.desc())
    ).all()
    headlines = {}
    for fair in fairs:
        if (state := page_state(fair.id)) is not None:  # (unless deleted since)
            headlines[fair.id] = dataclasses.replace(_shared_fair(fair.id, state).headline,
                                                     attendees=state.attendees, intents=state.intents)
    fairs = [fair for fair in fairs if fair.id in headlines]
    return render("fairs/index.html", fairs=fairs, headlines=headlines, live_sessions=now_and_next())


@bp.get("/fairs/<int:fair_id>")
def show(fair_id: int):
    state = _public_state(fair_id)
    filt = VacancyFilter.from_args(request.args)
    after = parse_cursor(request.args.get("after"))
    # htmx: the results of a search, or (infinite scroll) the next cards alone. Without htmx,
    # "下一页" links to the whole page, from the row after the last one shown.
    kind = ("more" if after is not None else "section") if wants_fragment() else "page"
    if not current_user.is_authenticated and "_flashes" not in session:
        html = _answer(fair_id, state, filt, after, kind).fill(state.intents)
        return page_or_fragment(html)
    # Staff see their own navigation (and anyone their messages): the page around the shared cards.
    results = _shared_results(fair_id, state, filt, after, with_count=kind != "more")
    cards = Markup(Slotted.cut(results.cards, results.buttons, fair_id).fill())
    context = _context(fair_id, state, filt, after, kind, cards, state.intents)
    return render(_TEMPLATES["page"], _TEMPLATES[kind] if kind != "page" else None, **context)
