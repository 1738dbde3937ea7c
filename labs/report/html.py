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
                ["command", " ".join(info.get("command", []))], *_measurement(summary)]
    basis = [[p["phase"], e["what"], (e.get("model") or {}).get("basis", "-"), e["reason"]]
             for p in summary.get("phases", []) for e in p["expectations"]]
    return _render(
        title=charts.title(summary), reason=summary.get("reason", ""), disturbed=_disturbed(summary),
        chart_heading="Timeline",
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
        disturbed=_sweep_disturbed(doc), chart_heading="Failover against the setting", summary_header=sweep.HEADER,
        summary_rows=sweep.rows(doc),
        images=_embedded(images), basis_header=["value", "what", "model (first run)", "verdict"], basis=basis,
        versions=[["command", " ".join(doc["command"])], *runs], configs=[], changes=[],
    )


def _measurement(summary: dict[str, Any]) -> list[list[str]]:
    """The probe's timing as the run judged it (summary.json `measurement`), for the Run table."""
    m = summary.get("measurement")
    if not m:
        return []
    late = "-" if m.get("late_p99_s") is None else (
        f"{m['late_p99_s'] * 1000:.1f} ms (bound {m['late_bound_s'] * 1000:.0f} ms)")
    sent = "-" if not m.get("asked") else (
        f"{m['sent']} of {m['asked']} asked (bound {m['sent_bound']:.0%}; counted from {m['counted_from']})")
    return [["probe p99 lateness", late], ["probe requests sent", sent],
            ["timing", f"disturbed: {m['why']}" if m["disturbed"] else "not disturbed"]]


def _disturbed(summary: dict[str, Any]) -> str:
    """The page's warning when the run's timing was disturbed, else empty."""
    m = summary.get("measurement") or {}
    if not m.get("disturbed"):
        return ""
    return (f"Timing disturbed: {m['why']}. The probe did not keep its grid, so the client figures and times on "
            "this page cannot be trusted to the model's tolerance; run it again on a quieter host.")


def _sweep_disturbed(doc: dict[str, Any]) -> str:
    runs = [r for e in doc["values"] for r in e["runs"] if r.get("disturbed")]
    if not runs:
        return ""
    return (f"Timing disturbed in {len(runs)} run(s) ({', '.join(r['folder'] for r in runs)}): their figures "
            "cannot be trusted to the model's tolerance.")


def _embedded(images: list[Path]) -> list[tuple[str, str]]:
    return [(p.stem, base64.b64encode(p.read_bytes()).decode()) for p in images]


def _render(**values: Any) -> str:
    env = jinja2.Environment(loader=jinja2.PackageLoader("labs", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html.j2").render(**values)
