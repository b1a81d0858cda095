"""The base form every form derives from: text is stripped of surrounding space, NUL bytes
and other control characters (PostgreSQL refuses NUL; nobody means to type them)."""
from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import PasswordField

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def clean_text(value, max_length: int | None = None):
    """Remove control characters (and bidi overrides) and surrounding space from a string."""
    if not isinstance(value, str):
        return value
    value = _CONTROL.sub("", value).strip()
    return value[:max_length] if max_length else value


class Form(FlaskForm):
    class Meta:
        def bind_field(self, form, unbound_field, options):
            filters = list(unbound_field.kwargs.get("filters", ()))
            # Passwords are taken exactly as typed.
            if not issubclass(unbound_field.field_class, PasswordField):
                filters.append(clean_text)
            options["filters"] = filters
            return unbound_field.bind(form=form, **options)
