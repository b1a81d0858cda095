"""The base form every form derives from: text is stripped of surrounding space, NUL bytes
and other control characters (PostgreSQL refuses NUL; nobody means to type them), and a
one-line field holds no line breaks. And the validators several domains' forms share."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.validators import ValidationError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069]")
# Line breaks and tabs, which a one-line field (a name, a title) cannot hold.
_BREAKS = re.compile(r"[\t\n\r\x85\u2028\u2029]+")


def clean_text(value, max_length: int | None = None):
    """Remove control characters (and bidi overrides) and surrounding space from a string."""
    if not isinstance(value, str):
        return value
    value = _CONTROL.sub("", value).strip()
    return value[:max_length] if max_length else value


def clean_line(value):
    """A one-line field's text: line breaks and tabs become a space (a title with CR/LF would
    otherwise reach a download's file name, a spreadsheet cell, a header)."""
    return _BREAKS.sub(" ", value) if isinstance(value, str) else value


class Form(FlaskForm):
    class Meta:
        def bind_field(self, form, unbound_field, options):
            filters = list(unbound_field.kwargs.get("filters", ()))
            field_class = unbound_field.field_class
            # Passwords are taken exactly as typed.
            if not issubclass(field_class, PasswordField):
                if issubclass(field_class, StringField) and not issubclass(field_class, TextAreaField):
                    filters.append(clean_line)
                filters.append(clean_text)
            options["filters"] = filters
            return unbound_field.bind(form=form, **options)


class YearBetween:
    """A date or time within years `first`..`last`: "0001-01-01" parses as a date, then fails
    wherever Beijing time is added to it or a spreadsheet reads it."""

    def __init__(self, first: int = 2000, last: int = 2100):
        self.first, self.last = first, last

    def __call__(self, _form, field) -> None:
        if field.data is not None and not self.first <= field.data.year <= self.last:
            raise ValidationError(
                _l("请填写 %(first)s 至 %(last)s 年之间的日期", first=self.first, last=self.last)
            )
