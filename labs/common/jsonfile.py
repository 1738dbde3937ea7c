"""Every JSON file halab writes carries `schema_version`: what a script reading it checks."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# 2: client expectations, expectations.json, shared labs (steps, labs_built); 1: before.
SCHEMA_VERSION = 2


def write(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps({"schema_version": SCHEMA_VERSION, **data}, indent=1))
