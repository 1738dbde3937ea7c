"""Jinja2 rendering of the daemons' configuration files (labs/templates/)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2


def _num(value: float) -> str:
    """Timers are floats in the data; keepalived and sleep read `3` better than `3.0`."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("labs", "templates"),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
ENV.filters["num"] = _num


def render(template: str, **context: Any) -> str:
    return ENV.get_template(template).render(**context)


def render_to(path: Path, template: str, mode: int = 0o644, **context: Any) -> Path:
    """Write a rendered file (parents created) with an explicit mode: nothing world-writable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(template, **context))
    path.chmod(mode)
    return path
