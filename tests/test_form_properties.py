"""Property-based tests of every form that takes what people type: whatever arrives in each
field (valid values, arbitrary text, hostile text), validation either passes with clean data
that the database stores as it is, or fails with a message in Chinese. It never raises.

Each field gets a valid value or an arbitrary one, so that examples pass validation often
enough to reach the database (on PostgreSQL too: NUL bytes, over-long text and out-of-range
numbers fail there, not on SQLite)."""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wtforms import IntegerField, PasswordField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange

from fairsite.accounts.models import EMPLOYER, User
from fairsite.accounts.service import role_choices
from fairsite.clock import utcnow
from fairsite.employers.credit_code import make_credit_code
from fairsite.employers.forms import ProfileForm, RegisterForm, StaffForm
from fairsite.employers.models import Employer
from fairsite.extensions import db
from fairsite.fairs.forms import FairForm
from fairsite.fairs.manage import _fill
from fairsite.fairs.models import Fair
from fairsite.intents.forms import AttendeeForm, DeskForm
from fairsite.intents.models import KEY_GROUPS
from fairsite.intents.service import find_or_create_attendee
from fairsite.live.forms import LiveSessionForm
from fairsite.live.manage import _form_data
from fairsite.live.models import LiveSession
from fairsite.phones import normalise_phone
from fairsite.vacancies.forms import VacancyForm, parse_whole_number
from fairsite.vacancies.models import Vacancy

CHINESE = re.compile(r"[\u4e00-\u9fff]")
UNCLEAN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
BREAKS = re.compile(r"[\r\n\t\u2028\u2029]")

HOSTILE = st.sampled_from([
    "", " ", "\x00", "a\x00b", "\r\n", "\u202e", "²", "١٢", "9" * 30, "-1", "0",
    "<img src=x onerror=alert(1)>", 'hx-get="/logout"', "x" * 3000, "长" * 300, "http://[",
    "0001-01-01", "9999-12-31T23:59", "2026-02-30", "25:61", "\ud7ff", "😀",
])
TEXT = st.one_of(st.text(max_size=300), HOSTILE)
# Derandomised (the same examples on every run and machine) and without an example database
# (nothing written into the working tree).
QUICK = settings(max_examples=50, deadline=None, derandomize=True, database=None)
PROPERTIES = settings(QUICK, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                    HealthCheck.too_slow])


def field_values(valid: dict) -> st.SearchStrategy[dict]:
    """The valid form with up to three fields replaced by arbitrary or hostile text, or left
    out (the rest stay valid, so that the others' checks and the database are reached)."""

    @st.composite
    def values(draw) -> dict:
        out = dict(valid)
        for name in draw(st.lists(st.sampled_from(sorted(valid)), max_size=3, unique=True)):
            if draw(st.integers(0, 4)) == 0:
                del out[name]
            else:
                out[name] = draw(TEXT)
        return out

    return values()


def check(form) -> bool:
    """Validate without raising; a failure speaks Chinese; success leaves clean data."""
    ok = form.validate()
    if not ok:
        for name, errors in form.errors.items():
            for error in errors:
                assert CHINESE.search(str(error)), (name, str(error))
        return False
    for field in form:
        data = field.data
        if isinstance(field, PasswordField) or not isinstance(data, str):
            if isinstance(field, IntegerField) and data is not None:
                for v in field.validators:
                    if isinstance(v, NumberRange):
                        assert v.min <= data <= v.max, (field.name, data)
            continue
        assert not UNCLEAN.search(data), (field.name, data)
        assert data == data.strip(), (field.name, data)
        if isinstance(field, StringField) and not isinstance(field, TextAreaField):
            assert not BREAKS.search(data), (field.name, data)
        for v in field.validators:
            if isinstance(v, Length) and v.max >= 0:
                assert len(data) <= v.max, (field.name, len(data))
    return True


def post(app, data: dict, **kw):
    return app.test_request_context("/", method="POST", data=data, **kw)


@pytest.fixture
def employer(app, make_employer):
    return make_employer()


# --- the attendee's form and the desk's -------------------------------------------------


ATTENDEE = {"name": "张三", "phone": "138 0013 8000", "consent": "y"}


@pytest.mark.parametrize("form_class", [AttendeeForm, DeskForm])
def test_attendee_and_desk_forms_pass_clean_or_fail_in_chinese(app, form_class):
    stored: list = []

    @PROPERTIES
    @given(values=field_values(ATTENDEE),
           groups=st.lists(st.one_of(st.sampled_from(list(KEY_GROUPS)), TEXT), max_size=30))
    def run(values, groups):
        with post(app, {**values, "groups": groups}):
            form = form_class(meta={"csrf": False})
            if check(form):
                assert form.normalised_phone == normalise_phone(form.phone.data)
                assert re.fullmatch(r"1[3-9][0-9]{9}", form.normalised_phone)
                assert len(form.groups.data) == len(set(form.groups.data))
                assert set(form.groups.data) <= set(KEY_GROUPS)
                try:
                    db.session.connection()  # the caller's transaction, as signing opens it
                    attendee, _created = find_or_create_attendee(
                        form.name.data, form.normalised_phone, form.groups.data, "v1")
                    db.session.flush()
                    stored.append(1)
                    assert attendee.group_codes == form.groups.data
                finally:
                    db.session.rollback()

    run()
    assert stored, "no example passed validation: the property never reached the database"


# --- vacancies ------------------------------------------------------------------------------


VACANCY = {"title": "普工", "category": "production", "headcount": "30人", "pay_min": "4,000元",
           "pay_max": "4.5k", "location": "高新区", "shifts": "长白班", "age_min": "18",
           "age_max": "45", "education": "", "meals_lodging": "y", "description": "包吃住"}
NUMBER = st.one_of(st.integers(-10**6, 10**6).map(str), st.integers(500, 100_000).map(lambda n: f"{n:,}元"),
                   st.integers(1, 99).map(lambda n: f"{n / 10}k"), TEXT)


def test_vacancy_form_passes_clean_or_fails_in_chinese(app, employer):
    stored: list = []

    @PROPERTIES
    @given(values=field_values(VACANCY), numbers=st.dictionaries(
        st.sampled_from(["headcount", "pay_min", "pay_max", "age_min", "age_max"]), NUMBER, max_size=2))
    def run(values, numbers):
        data = {f"new-{k}": v for k, v in {**values, **numbers}.items()}
        with post(app, data):
            form = VacancyForm(prefix="new", meta={"csrf": False})
            if check(form):
                assert form.pay_min.data <= form.pay_max.data
                try:
                    vacancy = Vacancy(employer_id=employer.id)
                    form.populate_obj(vacancy)
                    db.session.add(vacancy)
                    db.session.flush()
                    stored.append(1)
                finally:
                    db.session.rollback()
            # Inline validation of any one field answers too.
            for name in ("pay_min", "title", "nosuch"):
                assert isinstance(form.field_errors(name), list)

    run()
    assert stored, "no example passed validation: the property never reached the database"


@given(n=st.integers(0, 10**9))
@QUICK
def test_parse_whole_number_reads_back_every_way_a_number_is_written(n):
    full_width = str(n).translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    for written in (str(n), f"{n:,}", f"{n}元", f"{n}.00", f" {n} ", full_width, f"¥{n:,}元/月"):
        assert parse_whole_number(written) == n, written


@given(raw=st.text(max_size=80))
@QUICK
def test_parse_whole_number_and_normalise_phone_never_raise_anything_else(raw):
    try:
        parse_whole_number(raw)
    except ValueError:
        pass
    phone = normalise_phone(raw)
    assert phone is None or re.fullmatch(r"1[3-9][0-9]{9}", phone)


@given(number=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
       cuts=st.lists(st.integers(1, 10), max_size=4),
       separator=st.sampled_from([" ", "-", " - ", ".", "\u200b", "\u3000"]),
       prefix=st.sampled_from(["", "+86 ", "0086", "tel:", "tel:+86-", "(+86)"]))
@QUICK
def test_normalise_phone_finds_the_number_whatever_is_around_it(number, cuts, separator, prefix):
    typed = number
    for cut in sorted(set(cuts), reverse=True):
        typed = typed[:cut] + separator + typed[cut:]
    assert normalise_phone(prefix + typed) == number


# --- fairs and live sessions ----------------------------------------------------------------


FAIR = {"title": "春风行动招聘会", "kind": "park", "campaign": "春风行动", "venue": "人民公园",
        "date": "2026-03-03", "opens_at": "08:30", "closes_at": "16:30", "description": "欢迎"}


def test_fair_form_passes_clean_or_fails_in_chinese(app):
    stored: list = []

    @PROPERTIES
    @given(values=field_values(FAIR))
    def run(values):
        with post(app, values):
            form = FairForm(meta={"csrf": False})
            if check(form):
                assert 2000 <= form.date.data.year <= 2100
                try:
                    fair = Fair(status="draft")
                    _fill(fair, form)
                    db.session.add(fair)
                    db.session.flush()
                    stored.append(1)
                finally:
                    db.session.rollback()

    run()
    assert stored, "no example passed validation: the property never reached the database"


LIVE = {"title": "返乡专场", "host_name": "小王", "fair_id": "0", "scheduled_at": "2026-03-03T10:00",
        "stream_url": "https://live.douyin.com/12345", "description": "简介"}


def test_live_session_form_passes_clean_or_fails_in_chinese(app, make_fair):
    fair = make_fair()

    stored: list = []

    @PROPERTIES
    @given(values=field_values({**LIVE, "fair_id": str(fair.id)}))
    def run(values):
        with post(app, values):
            form = LiveSessionForm(meta={"csrf": False})
            form.fair_id.choices = [(0, "不属于某场招聘会"), (fair.id, fair.title)]
            form.allowed_hosts = frozenset({"live.douyin.com"})
            if check(form):
                try:
                    session = LiveSession(status="scheduled", created_at=utcnow(), **_form_data(form))
                    db.session.add(session)
                    db.session.flush()
                    stored.append(1)
                finally:
                    db.session.rollback()

    run()
    assert stored, "no example passed validation: the property never reached the database"


# --- employers ------------------------------------------------------------------------------


FIRM = {"name": "川南电子有限公司", "credit_code": make_credit_code("91510100MA6C7X123"),
        "industry": "电子制造", "contact_name": "王经理", "contact_phone": "+86 138-0013-8000"}


def test_register_form_passes_clean_or_fails_in_chinese(app):
    stored: list = []

    @PROPERTIES
    @given(values=field_values({**FIRM, "login": "wang@test.cn", "password": "a long password",
                                "confirm": "a long password"}))
    def run(values):
        with post(app, values):
            form = RegisterForm(meta={"csrf": False})
            if check(form):
                assert re.fullmatch(r"1[3-9][0-9]{9}", form.contact_phone.data)
                assert len(form.credit_code.data) == 18
                try:
                    firm = Employer(name=form.name.data, credit_code=form.credit_code.data,
                                    industry=form.industry.data, contact_name=form.contact_name.data,
                                    contact_phone=form.contact_phone.data)
                    db.session.add_all([firm, User(login=form.login.data.lower(), name=form.contact_name.data,
                                                   role=EMPLOYER, employer=firm, password_hash="x")])
                    db.session.flush()
                    stored.append(1)
                finally:
                    db.session.rollback()

    run()
    assert stored, "no example passed validation: the property never reached the database"


def test_profile_form_passes_clean_or_fails_in_chinese(app, employer):
    stored: list = []

    @PROPERTIES
    @given(values=field_values({**FIRM, "address": "高新区天府大道 1 号", "description": "电子厂"}))
    def run(values):
        with post(app, values):
            firm = db.session.get(Employer, employer.id)
            form = ProfileForm(obj=firm, meta={"csrf": False})  # as the view builds it
            if check(form):
                try:
                    form.populate_obj(firm)
                    db.session.flush()
                    stored.append(1)
                finally:
                    db.session.rollback()

    run()
    assert stored, "no example passed validation: the property never reached the database"


def test_staff_form_passes_clean_or_fails_in_chinese(app, employer):
    stored: list = []

    @PROPERTIES
    @given(values=field_values({"name": "同事", "login": "13900139000", "password": "a long password"}))
    def run(values):
        with post(app, values):
            form = StaffForm(meta={"csrf": False})
            form.staff_role.choices = role_choices(EMPLOYER)  # as the view sets them
            if check(form):
                try:
                    db.session.add(User(login=form.login.data.lower(), name=form.name.data,
                                        role=EMPLOYER, employer_id=employer.id, password_hash="x"))
                    db.session.flush()
                    stored.append(1)
                finally:
                    db.session.rollback()

    run()
    assert stored, "no example passed validation: the property never reached the database"
