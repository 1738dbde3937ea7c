"""report.html: one self-contained page per run (plots embedded), readable with no server."""
from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from labs import charts
from labs.analysis import summary as summ


def _table(header: list[str], rows: list[list[str]], cls: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td class="{html.escape(c)}">{html.escape(c)}</td>' if c in ("pass", "fail")
                         else f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def page(folder: Path, summary: dict[str, Any], images: list[Path]) -> str:
    info = json.loads((folder / "run.json").read_text())
    configs = "".join(
        f"<details><summary>{html.escape(str(p.relative_to(folder)))}</summary><pre>{html.escape(p.read_text())}</pre></details>"
        for p in sorted((folder / "configs").rglob("*")) if p.is_file())
    versions = _table(["what", "value"], [["kernel backend", f"{info.get('kernel_backend')} ({info.get('kernel_reason')})"],
                                          ["kernel", info.get("kernel", "")], ["variant", info.get("variant", "default")],
                                          *[[k, v] for k, v in info.get("versions", {}).items()],
                                          ["process start (measured)", f"{info.get('process_start_s')} s"],
                                          ["keepalived start (measured)", f"{info.get('keepalived_start_s')} s"],
                                          ["command", " ".join(info.get("command", []))]])
    basis = [[p["phase"], e["what"], e.get("model", {}).get("basis", "-"), e["reason"]]
             for p in summary.get("phases", []) for e in p["expectations"]]
    title = charts.title(summary)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 1400px; }}
table {{ border-collapse: collapse; margin: 1em 0; }} td, th {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; }}
td.pass {{ background: #d4f4d4; }} td.fail {{ background: #f8d0d0; }} img {{ max-width: 100%; }}
pre {{ background: #f6f6f6; padding: 1em; overflow-x: auto; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{html.escape(summary.get('reason', ''))}</p>
<h2>Summary</h2>
{_table(summ.HEADER, summ.rows(summary), "summary")}
<h2>Timeline</h2>
{''.join(_img(p, p.stem) for p in images)}
<h2>Model vs measured</h2>
{_table(["phase", "what", "model", "verdict reason"], basis, "model")}
<h2>Run</h2>
{versions}
<h2>Configurations</h2>
{configs}
</body></html>
"""
