"""JUnit XML of a labs.run command (`--junit-xml PATH`): one test case per scenario run,
each failed expectation a line of its failure message, for CI systems that read JUnit.
A test case is named `scenario@target` (` #2`, ... for the repeats of one): the same name
in every run of the command, so CI can follow a test's history; the timestamped run
folder and the run id go in its properties.

A disturbed run (the probe's timing could not be trusted) is a skipped test case with the
reason: it was neither passed nor failed by the product, and an `error` would say the
harness broke, which it did not; a CI that reads only JUnit shows it as not judged, and
the command's exit status (3) still says the suite was not a clean pass."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any, Sequence


def write(path: Path, topology: str, folders: Sequence[Path], summaries: Sequence[dict[str, Any]]) -> None:
    suite = ET.Element("testsuite", name=f"halab.{topology}", tests=str(len(summaries)),
                       failures=str(sum(s["verdict"] == "fail" for s in summaries)),
                       skipped=str(sum(s["verdict"] == "disturbed" for s in summaries)),
                       time=f"{sum(s.get('duration_s') or 0.0 for s in summaries):.3f}")
    seen: Counter[str] = Counter()
    for folder, s in zip(folders, summaries):
        name = f"{s.get('scenario')}@{s.get('target')}"
        seen[name] += 1
        case = ET.SubElement(suite, "testcase", classname=f"halab.{topology}.{s.get('scenario')}",
                             name=name if seen[name] == 1 else f"{name} #{seen[name]}",
                             time=f"{s.get('duration_s') or 0.0:.3f}")  # 0: bring-up failed, nothing was timed
        properties = ET.SubElement(case, "properties")
        for key, value in (("run_folder", str(folder)), ("run_id", s.get("run_id") or folder.name)):
            ET.SubElement(properties, "property", name=key, value=value)
        if s["verdict"] == "fail":
            failed = [e["reason"] for p in s.get("phases", []) for e in p["expectations"] if e["verdict"] == "fail"]
            failure = ET.SubElement(case, "failure", message=s["reason"][:500])
            failure.text = "\n".join(failed or [s["reason"]])
        elif s["verdict"] == "disturbed":
            ET.SubElement(case, "skipped", message=s["reason"][:500])
        ET.SubElement(case, "system-out").text = f"run folder: {folder}"
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
