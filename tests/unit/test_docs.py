"""The README stays what a newcomer reads in five minutes, keeps the two commands CI and a
checker look for, and every relative link of the README and the docs points to a file."""
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
DOCS = [README, REPO / "results" / "README.md", *sorted((REPO / "docs").glob("*.md"))]

# `[text](target)` and `![alt](target)`; a target ends at whitespace or the closing parenthesis
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
CODE = re.compile(r"`[^`\n]*`")


def links(path: Path) -> list[str]:
    """Relative link targets of a Markdown file, outside code, without their #anchor."""
    text = CODE.sub("", FENCE.sub("", path.read_text()))
    out = []
    for target in LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # https:, mailto:, an anchor in the same file
        out.append(target.split("#", 1)[0])
    return out


def test_the_readme_is_short():
    lines = README.read_text().splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines: move reference to docs/ (at most 250)"


def test_the_readme_keeps_the_two_commands():
    text = README.read_text()
    assert "sudo ./setup.sh && sudo python -m labs.run dual_master\n" in text
    assert "sudo ./setup.sh && sudo python -m pytest\n" in text  # .ci/run runs it as typed


def test_the_readme_installs_into_a_venv_that_sees_debians_packages():
    """Debian 12 refuses `pip install .` into its own interpreter (PEP 668): the README says
    how .ci/packaging.sh installs instead."""
    text = README.read_text()
    assert "/usr/bin/python3 -m venv --system-site-packages .venv && .venv/bin/pip install ." in text
    assert "venv --system-site-packages" in (REPO / ".ci" / "packaging.sh").read_text()


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_points_to_a_file(doc):
    found = links(doc)
    missing = [t for t in found if not (doc.parent / t).exists()]
    assert not missing, f"{doc.relative_to(REPO)} links to missing files: {missing}"


def test_the_link_check_sees_links_and_images(tmp_path):
    (tmp_path / "a.md").write_text("[x](b.md#part) ![i](fig/c.png) [w](https://e.org) [s](#top)\n"
                                   "`[not](code.md)`\n```\n[nor](block.md)\n```\n")
    assert links(tmp_path / "a.md") == ["b.md", "fig/c.png"]


def test_the_readme_links_the_moved_reference():
    text = README.read_text()
    for doc in ("docs/scenarios.md", "docs/benchmarks.md", "docs/lab-files.md", "docs/architecture.md",
                "docs/api.md", "docs/workshop.md", "docs/regression-tests.md"):
        assert f"]({doc}" in text, f"README.md does not link {doc}"
