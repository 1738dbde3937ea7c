"""Every JSON document halab writes carries `schema_version` (one number for all of them:
the files of a run folder, events.jsonl's header line, every command's `--json`): what a
script reading it checks."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# 3: schema_version in every file (events.jsonl's header line, probe-stats.json,
#    connections-stats.json, status.json, `status --json`); seconds end in `_s`
#    (status.json converged_after_s, expectations.json window earliest_s/latest_s);
#    expectations.json says `from`/`to` as summary.json does; run.json run_id.
# 2: client expectations, expectations.json, shared labs (steps, labs_built); 1: before.
SCHEMA_VERSION = 3

HEADER = "header"  # events.jsonl's first line: {"t": ..., "kind": "header", "schema_version": N}


def document(data: dict[str, Any]) -> dict[str, Any]:
    """`data` with the schema version first."""
    return {"schema_version": SCHEMA_VERSION, **data}


def write(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(document(data), indent=1))


def header(t: float) -> str:
    """events.jsonl's first line: an event of its own kind (readers that pick events by
    `kind` and sort by `t` need no change), carrying the schema version."""
    return json.dumps({"t": t, "kind": HEADER, "schema_version": SCHEMA_VERSION}) + "\n"
