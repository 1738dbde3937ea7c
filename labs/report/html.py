"""report.html: one self-contained page per run (plots embedded), readable with no server,
from a Jinja2 template with autoescaping (labs/templates/report.html.j2)."""
from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import jinja2

from labs.report import charts
from labs.analysis import summary as summ
from labs.analysis import sweep


def page(folder: Path, summary: dict[str, Any], images: list[Path]) -> str:
    info = json.loads((folder / "run.json").read_text())
    versions = [["kernel backend", f"{info.get('kernel_backend')} ({info.get('kernel_reason')})"],
                ["kernel", info.get("kernel", "")], ["variant", info.get("variant", "default")],
                *[[k, v] for k, v in info.get("versions", {}).items()],
                ["process start (measured)", f"{info.get('process_start_s')} s"],
                ["keepalived start (measured)", f"{info.get('keepalived_start_s')} s"],
                ["command", " ".join(info.get("command", []))]]
    basis = [[p["phase"], e["what"], (e.get("model") or {}).get("basis", "-"), e["reason"]]
             for p in summary.get("phases", []) for e in p["expectations"]]
    return _render(
        title=charts.title(summary), reason=summary.get("reason", ""), chart_heading="Timeline",
        summary_header=summ.HEADER, summary_rows=summ.rows(summary), images=_embedded(images),
        basis_header=["phase", "what", "model", "verdict reason"], basis=basis, versions=versions,
        configs=[(str(p.relative_to(folder)), p.read_text()) for p in sorted((folder / "configs").rglob("*")) if p.is_file()],
        changes=[[host, change] for host, listed in info.get("config_changes", {}).items() for change in listed],
    )


def sweep_page(doc: dict[str, Any], images: list[Path]) -> str:
    """A sweep's page: its chart, the table, the model's basis for each value."""
    basis = [[e["value"], r["what"] or "-", r["basis"] or "-", r["verdict"]] for e in doc["values"] for r in e["runs"][:1]]
    runs = [[e["value"], r["folder"], r["verdict"]] for e in doc["values"] for r in e["runs"]]
    return _render(
        title=f"sweep of {doc['setting']}: {doc['scenario_name']} on {doc['target']} ({doc['topology']})",
        reason=f"values {', '.join(str(e['value']) for e in doc['values'])}; {doc['repeat']} run(s) each",
        chart_heading="Failover against the setting", summary_header=sweep.HEADER, summary_rows=sweep.rows(doc),
        images=_embedded(images), basis_header=["value", "what", "model (first run)", "verdict"], basis=basis,
        versions=[["command", " ".join(doc["command"])], *runs], configs=[], changes=[],
    )


def _embedded(images: list[Path]) -> list[tuple[str, str]]:
    return [(p.stem, base64.b64encode(p.read_bytes()).decode()) for p in images]


def _render(**values: Any) -> str:
    env = jinja2.Environment(loader=jinja2.PackageLoader("labs", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html.j2").render(**values)
