"""The one text-table formatter every command prints with: left-aligned columns, a rule
under the header."""
from __future__ import annotations

from typing import Sequence


def render(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*header), fmt.format(*("-" * w for w in widths)),
                      *(fmt.format(*(str(c) for c in r)) for r in rows)]).rstrip()
