"""Checks on values that arrive from people: widgets, API calls and CLI flags.

Each function returns the cleaned value or raises ``UserError`` with one sentence that says what
was wrong and what is allowed. NaN, inf, strings and None all end up here instead of in torch.
"""

from __future__ import annotations

import math
from numbers import Real

from .errors import UserError

MAX_SEED = 2**32 - 1

def as_float(value, name: str, lo: float | None = None, hi: float | None = None) -> float:
    if isinstance(value, bool) or value is None:
        raise UserError(f"{name} must be a number, got {value!r}.")
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise UserError(f"{name} must be a number, got {value!r}.") from None
    if not isinstance(value, Real):
        raise UserError(f"{name} must be a number, got {type(value).__name__}.")
    value = float(value)
    if not math.isfinite(value):
        raise UserError(f"{name} must be a finite number, got {value}.")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise UserError(f"{name} must be between {lo:g} and {hi:g}, got {value:g}.")
    return value


def as_int(value, name: str, lo: int | None = None, hi: int | None = None) -> int:
    number = as_float(value, name)
    if number != int(number):
        raise UserError(f"{name} must be a whole number, got {number:g}.")
    number = int(number)
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        raise UserError(f"{name} must be between {lo} and {hi}, got {number}.")
    return number


def as_seed(value) -> int:
    return as_int(value, "Seed", 0, MAX_SEED)


def as_choice(value, name: str, choices) -> str:
    choices = list(choices)
    if not isinstance(value, str) or value not in choices:
        raise UserError(f"Unknown {name} {value!r}; choose one of: {', '.join(choices)}.")
    return value


def as_bool(value, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in (0, 1) and not isinstance(value, float):
        return bool(value)
    raise UserError(f"{name} must be true or false, got {value!r}.")


def as_zoo_name(value) -> str:
    """A name for a zoo entry: letters, digits, '.', '_', '-', at most 60 characters."""
    import re

    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,59}", value.strip()):
        raise UserError("A zoo name uses letters, digits, '.', '_' and '-' (at most 60), "
                        f"starting with a letter or digit; got {str(value)[:40]!r}.")
    return value.strip()
