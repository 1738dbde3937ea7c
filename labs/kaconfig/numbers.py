"""keepalived's number readers (lib/parser.c read_int_func, read_unsigned_func,
read_decimal_unsigned_long_func), so that a value reads as keepalived runs it.

A keepalived handler asks for a number between a minimum and a maximum, saying whether
it tolerates junk after it (`ignore_error`). Running (not `keepalived -t`), the digits a
C `strtol` takes are used when they are in range and junk is tolerated: `advert_int 2x`
runs as 2 (with a warning), `priority 150,comment` does not (priority tolerates nothing,
so keepalived uses its default). Every such case is also an error for `keepalived -t`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_INT = re.compile(r"[ \t\n\r\f\v]*([+-]?)(\d*)")


@dataclass(frozen=True)
class Number:
    value: int | None  # what keepalived uses, or None: the handler falls back to its default
    problem: str = ""  # what keepalived reports ("" for a clean number)


def _prefix(text: str) -> tuple[int | None, bool]:
    """strtol's reading: the leading integer (None if there is none) and whether it was all."""
    m = _INT.match(text)
    if not m or not m.group(2):
        return None, False
    value = int(m.group(2)) * (-1 if m.group(1) == "-" else 1)
    return value, m.end() == len(text)


def integer(text: str, low: int, high: int, ignore_error: bool, signed: bool = True) -> Number:
    """read_int / read_unsigned: an integer in [low, high]."""
    value, whole = _prefix(text)
    if not signed and text.lstrip().startswith("-"):
        return Number(None, f"negative number '{text}'")
    if value is None:
        return Number(None, f"invalid number '{text}'")
    in_range = low <= value <= high
    if whole and in_range:
        return Number(value)
    problem = f"invalid number '{text}'" if not whole else f"number '{text}' outside range [{low}, {high}]"
    return Number(value if ignore_error and in_range else None, problem)


def decimal(text: str, low: float, high: float, ignore_error: bool, places: int = 6) -> Number:
    """read_decimal_unsigned: a decimal with up to `places` decimals, in millionths (the
    unit of keepalived's timers) between low and high seconds."""
    if text.startswith("-"):
        return Number(None, f"negative number '{text}'")
    whole_part, dot, frac = text.partition(".")
    problem = ""
    round_up = False
    if len(frac) > places:
        problem = f"number '{text}' has too many decimal places"
        round_up = frac[places] >= "5"
        frac = frac[:places]
    digits = whole_part + frac + "0" * (places - len(frac))
    value, whole = _prefix(digits)  # keepalived appends the zeros before strtoull: "2x" is 2 millionths
    if value is None:
        return Number(None, f"invalid number '{text}'")
    value += round_up
    scale = 10 ** places
    in_range = low * scale <= value <= high * scale
    if not whole:
        return Number(value if ignore_error and in_range else None, f"invalid number '{text}'")
    if not in_range:
        return Number(None, f"number '{text}' outside range [{low:g}, {high:g}]")
    return Number(value, problem)
