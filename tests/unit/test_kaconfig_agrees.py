"""The typed model (labs.kaconfig) against keepalived's own data dump, config by config over
the conformance corpus: every instance's VRID, priority, advert interval, version, VIPs,
preemption, tracked scripts and interfaces with the weights keepalived applies, sync
groups, every vrrp_script's timers and weight, every virtual server's address, scheduler,
forwarding method, persistence and delay_loop, and each real server's port, weight and
checkers' timers. keepalived runs in one User-mode Linux boot (the checker process needs
IPVS), or natively where the kernel has IPVS: labs.kaconfig.oracle."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO
from labs import kaconfig
from labs.kaconfig.model import UNTIMED
from labs.kernel import uml

DATA = REPO / "tests" / "data" / "kaconfig" / "corpus"


def header(path: Path, key: str) -> str | None:
    m = re.search(rf"#\s*halab:\s*{key}=(\S+)", path.read_bytes()[:3000].decode("utf-8", "replace"))
    return m.group(1) if m else None


# Corpus files keepalived itself cannot answer for: `# halab: oracle=skip-REASON` in their header.
CORPUS = [p for p in sorted(DATA.glob("*.conf")) if not header(p, "oracle")]


def _why_not() -> str | None:
    if os.geteuid() != 0 and uml.problem():
        return f"needs root or User-mode Linux: {uml.problem()}"
    return None


@pytest.fixture(scope="session")
def dumps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """keepalived's answer for every corpus config: one oracle batch per config id."""
    why = _why_not()
    if why:
        pytest.skip(why)
    out = tmp_path_factory.mktemp("oracle")
    by_id: dict[str | None, list[Path]] = {}
    for p in CORPUS:
        by_id.setdefault(header(p, "config_id"), []).append(p)
    for cid, paths in by_id.items():
        cmd = [sys.executable, "-m", "labs.kaconfig.oracle", "--out", str(out), "--timeout", "30",
               *(["--config-id", cid] if cid else []), *map(str, paths)]
        subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    found = {}
    for f in out.glob("*.json"):
        record = json.loads(f.read_text())
        found[Path(record["config"]).name] = record
    return found


def _vip(address: str) -> str:
    return address.split("/")[0]


def _tracks(tracks: tuple[kaconfig.Track, ...]) -> list[tuple[str, int, bool]]:
    return sorted((t.name, t.weight, t.reverse) for t in tracks)


def _their_tracks(items: list[dict[str, Any]]) -> list[tuple[str, int, bool]]:
    return sorted((t["name"], t["weight"], bool(t.get("reverse"))) for t in items)


def differences(ours: kaconfig.Config, theirs: dict[str, Any]) -> list[str]:
    """Every field where the reader and keepalived's dump disagree."""
    out: list[str] = []

    def same(what: str, a: object, b: object) -> None:
        if a != b:
            out.append(f"{what}: reader {a!r}, keepalived {b!r}")

    vrrp = theirs.get("vrrp") or {}
    dumped = {i["name"]: i for i in vrrp.get("instances", [])}
    same("instances", sorted(i.name for i in ours.instances), sorted(dumped))
    for i in ours.instances:
        d = dumped.get(i.name)
        if d is None:
            continue
        for field, mine, theirs_value in (
                ("vrid", i.vrid, d["vrid"]), ("priority", i.priority, d["priority"]),
                ("advert_int", i.advert_int, d["advert_int"]), ("version", i.version, d["version"]),
                ("vips", [_vip(v) for v in i.vips], [_vip(v) for v in d["vips"]]),
                ("nopreempt", i.nopreempt, d["nopreempt"]), ("preempt_delay", i.preempt_delay, d["preempt_delay"]),
                ("track_script", _tracks(i.track_scripts), _their_tracks(d["track_scripts"])),
                ("track_interface", _tracks(i.track_interfaces), _their_tracks(d["track_interfaces"])),
                ("sync_group", i.sync_group or None, d["sync_group"])):
            same(f"{i.name} {field}", mine, theirs_value)
    groups = {g["name"]: sorted(g["members"]) for g in vrrp.get("sync_groups", [])}
    same("sync groups", {g.name: sorted(g.members) for g in ours.sync_groups if g.name in groups}, groups)
    for s in vrrp.get("scripts", []):  # keepalived dumps only the scripts something tracks
        mine = ours.scripts.get(s["name"])
        if mine is None:
            out.append(f"script {s['name']}: keepalived has it, the reader does not")
            continue
        same(f"script {s['name']}", (mine.interval, mine.weight, mine.reverse, mine.rise, mine.fall),
             (float(s["interval"]), s["weight"], bool(s["weight_reverse"]), s["rise"], s["fall"]))
        # keepalived shows the program's resolved path (/bin/true as /usr/bin/true): compare its name
        same(f"script {s['name']} command", (Path(mine.command[0]).name, *mine.command[1:]) if mine.command else (),
             (Path(s["args"][0]).name, *s["args"][1:]) if s.get("args") else ())
    check = theirs.get("check")
    if check is not None:
        out += _virtual_differences(ours, check)
    return out


def _vs_key(vs: kaconfig.VirtualServer) -> str:
    return f"FWM {vs.fwmark}" if vs.fwmark is not None else f"[{vs.group}]" if vs.group else f"{vs.ip}:{vs.port}"


def _their_key(vs: dict[str, Any]) -> str:
    return (f"FWM {vs['fwmark']}" if vs.get("fwmark") is not None else f"[{vs['group']}]" if vs.get("group")
            else f"{vs['address']}:{vs['port']}")


def _virtual_differences(ours: kaconfig.Config, check: dict[str, Any]) -> list[str]:
    out: list[str] = []
    theirs = {_their_key(v): v for v in check.get("virtual_servers", [])}
    mine = {_vs_key(v): v for v in ours.virtual_servers}
    if sorted(mine) != sorted(theirs):
        out.append(f"virtual servers: reader {sorted(mine)}, keepalived {sorted(theirs)}")
    for key in sorted(set(mine) & set(theirs)):
        v, d = mine[key], theirs[key]
        pairs = [("lb_algo", v.lb_algo, d["lb_algo"]), ("lb_kind", v.lb_kind, d["lb_kind"]),
                 ("persistence_timeout", v.persistence_timeout, d["persistence_timeout"] or 0),
                 ("delay_loop", v.delay_loop, d["delay_loop"]),
                 ("real servers", [(r.ip, r.port, r.weight) for r in v.real_servers],
                  [(r["address"], r["port"], r["weight"]) for r in d["real_servers"]])]
        for r, dr in zip(v.real_servers, d["real_servers"]):
            # a checker that polls nothing (FILE_CHECK, BFD_CHECK) has no timers: keepalived's are unset
            pairs.append((f"{r.ip}:{r.port} checkers",
                          [(c.kind, None if c.kind == "MISC_CHECK" else c.connect_timeout, c.retry,
                            c.delay_before_retry if c.retry else None, c.delay_loop) for c in r.checkers],
                          [(c["type"].split(",")[0], *((None, None, None, None) if c["type"] in UNTIMED else
                                                       (None if c["type"] == "MISC_CHECK" else c["connect_timeout"],
                                                        c["retry"], c["delay_before_retry"] if c["retry"] else None,
                                                        c["delay_loop"])))
                           for c in dr["checkers"]]))
        for field, a, b in pairs:
            if a != b:
                out.append(f"virtual_server {key} {field}: reader {a!r}, keepalived {b!r}")
    return out


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_the_reader_agrees_with_keepalived(path, dumps):
    record = dumps.get(path.name)
    assert record is not None, f"the oracle wrote nothing for {path.name}"
    assert "error" not in record, f"keepalived gave no answer: {record.get('error')}\n{record.get('log', '')[-2000:]}"
    result = record["result"]
    assert result.get("exit_status") in (None, 0), f"keepalived stopped: {record.get('log', '')[-2000:]}"
    ours = kaconfig.read(path, header(path, "config_id"))
    assert differences(ours, result) == []
