"""The reader against keepalived itself on the conformance corpus (tests/data/kaconfig/:
configs written here to cover every construct of keepalived's doc/samples and
keepalived.conf(5)): never a traceback, and the same keywords unknown as `keepalived -t`
reports, which checks the preprocessor (conditionals, definitions, includes, braces) and
the keyword table together. A fuzz test mutates the corpus: the reader must still never
raise, whatever it is given."""
from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO
from labs import kaconfig
from labs.daemons import keepalived
from labs.common.errors import LabError

DATA = REPO / "tests" / "data" / "kaconfig"
CORPUS = sorted((DATA / "corpus").glob("*.conf"))
MALFORMED = sorted(p for p in (DATA / "malformed").rglob("*.conf") if p.is_file())


def config_id(path: Path) -> str | None:
    m = re.search(r"#\s*halab:\s*config_id=(\S+)", path.read_bytes()[:2000].decode("utf-8", "replace"))
    return m.group(1) if m else None


def unknown_keywords(config: kaconfig.Config) -> list[str]:
    found = (re.match(r"unknown keyword '([^']+)'", d.message) for d in config.diagnostics.items)
    return sorted({m.group(1) for m in found if m})


def test_the_corpus_is_there():
    assert len(CORPUS) >= 30


@pytest.mark.parametrize("path", CORPUS + MALFORMED, ids=lambda p: p.name)
def test_never_a_traceback(path):
    kaconfig.read(path, config_id(path))
    try:
        kaconfig.read_checked(path, config_id(path))
    except LabError as e:
        assert "\n" not in str(e) and re.search(r":\d+: |no such file|folder", str(e)), str(e)


@pytest.mark.skipif(not shutil.which(keepalived.Keepalived.binary), reason="keepalived is not installed")
@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_the_same_keywords_unknown_as_keepalived_says(path):
    cid = config_id(path)
    p = subprocess.run(keepalived.config_test_command(path, cid), capture_output=True, text=True, timeout=60)
    theirs = sorted(set(re.findall(r"Unknown keyword '([^']+)'", p.stdout + p.stderr)))
    assert unknown_keywords(kaconfig.read(path, cid)) == theirs


MUTATIONS = ("{", "}", '"', "!", "#", "\\", "$", "${X}", "$X=", "@high ", "@^", "include *.conf", "include .",
             "\x00", "\r", "~SEQ(i,1,3)", "vrrp_instance", "priority", "999999999999999999999", "-1", "0.0000001")


def mutate(text: str, rng: random.Random) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 12)):
        at = rng.randrange(len(chars) + 1)
        what = rng.random()
        if what < 0.5:
            chars[at:at] = list(rng.choice(MUTATIONS))
        elif what < 0.8 and chars:
            del chars[at:at + rng.randint(1, 40)]
        else:
            chars[at:at] = chars[max(0, at - 200):at]  # a duplicated stretch
    return "".join(chars)


def test_fuzzed_configs_never_raise(tmp_path):
    """600 mutations of the corpus (seeded: a failure is repeatable), each read with and
    without a config id; a mutation may include the folder's own files or itself."""
    rng = random.Random(2026)
    for n in range(600):
        source = rng.choice(CORPUS)
        path = tmp_path / f"{n % 7}.conf"
        path.write_bytes(mutate(source.read_text(errors="replace"), rng).encode("utf-8", "surrogateescape"))
        for cid in (None, "high"):
            config = kaconfig.read(path, cid)
            assert all(d.where is None or d.where.line >= 0 for d in config.diagnostics.items)


@pytest.mark.skipif(not shutil.which(keepalived.Keepalived.binary), reason="keepalived is not installed")
@pytest.mark.parametrize("path", MALFORMED, ids=lambda p: str(p.relative_to(DATA / "malformed")))
def test_malformed_input_is_reported_where_keepalived_reports_it(path):
    """The reader reports an error exactly where `keepalived -t` says something (less the
    messages about interfaces that only exist in the lab); where keepalived never answers
    (it loops on a definition that refers to itself) the reader says so."""
    cid = config_id(path)
    ours = kaconfig.read(path, cid).diagnostics.errors
    if "never exits" in path.read_bytes()[:3000].decode("utf-8", "replace"):
        assert any(d.level == "fatal" for d in ours)
        return
    _, theirs = keepalived.config_test(path, cid)
    assert bool(ours) == bool(theirs), f"reader: {[str(d) for d in ours][:3]}; keepalived -t: {theirs[:3]}"
