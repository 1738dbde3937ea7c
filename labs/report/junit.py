"""JUnit XML of a labs.run command (`--junit-xml PATH`): one test case per scenario run,
each failed expectation a line of its failure message, for CI systems that read JUnit.

A disturbed run (the probe's timing could not be trusted) is a skipped test case with the
reason: it was neither passed nor failed by the product, and an `error` would say the
harness broke, which it did not; a CI that reads only JUnit shows it as not judged, and
the command's exit status (3) still says the suite was not a clean pass."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Sequence


def write(path: Path, topology: str, folders: Sequence[Path], summaries: Sequence[dict[str, Any]]) -> None:
    suite = ET.Element("testsuite", name=f"halab.{topology}", tests=str(len(summaries)),
                       failures=str(sum(s["verdict"] == "fail" for s in summaries)),
                       skipped=str(sum(s["verdict"] == "disturbed" for s in summaries)))
    for folder, s in zip(folders, summaries):
        case = ET.SubElement(suite, "testcase", classname=f"halab.{topology}.{s.get('scenario')}",
                             name=f"{s.get('scenario')}@{s.get('target')} ({folder.name})")
        if s["verdict"] == "fail":
            failed = [e["reason"] for p in s.get("phases", []) for e in p["expectations"] if e["verdict"] == "fail"]
            failure = ET.SubElement(case, "failure", message=s["reason"][:500])
            failure.text = "\n".join(failed or [s["reason"]])
        elif s["verdict"] == "disturbed":
            ET.SubElement(case, "skipped", message=s["reason"][:500])
        ET.SubElement(case, "system-out").text = f"run folder: {folder}"
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
