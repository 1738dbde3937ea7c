"""labs.lint on the article's own configs, on the corrected lab and on bad input."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from conftest import REPO
from labs import lint
from labs.daemons.keepalived import Keepalived

SEED = sorted((REPO / "topologies" / "seed_article").glob("*.conf"))
ADDRESSES = {"lvs1": "192.168.56.121", "lvs2": "192.168.56.122", "server1": "192.168.56.101", "server2": "192.168.56.102"}


def findings(paths, addresses=ADDRESSES):
    return lint.check(lint.load_files(list(paths), addresses))


def test_finds_every_config_mistake_of_the_article():
    got = {(f.check, str(f)) for f in findings(SEED)}
    checks = [c for c, _ in got]
    assert checks.count("vrid-reused") == 2  # 51 and 52 shared by both tiers
    assert any("router_id keep_101 is used by lvs1, lvs2" in m for _, m in got)
    assert any(c == "no-master" and "192.168.56.132" in m and "lvs2" in m for c, m in got)  # LVS2 BACKUP for both
    assert checks.count("weight-cannot-move") == 2 and any("use weight -21" in m for _, m in got)
    assert sum(c == "unknown-keyword" and "nb_get_retry" in m for c, m in got) == 2  # lvs1, lvs2
    assert checks.count("dr-arp") == 2  # server1, server2: nothing sets arp_ignore/arp_announce
    notes = lint.notes(lint.load_files(SEED, ADDRESSES))
    persistence = [n for n in notes if "persistence_timeout 5" in n]
    assert len(persistence) == 4  # one client, one server
    preempting = [n for n in notes if "empty IPVS table" in n]  # each VIP's preempting director (exercise 1b)
    assert [n.split()[1:3] for n in preempting] == [["lvs1", "VI_1"], ["lvs2", "VI_2"]], notes


def test_the_texts_vips_collide_with_the_lvs_addresses(tmp_path):
    """The article's text gives the server VIPs as .121/.122, the LVS hosts' own addresses."""
    for p in SEED:
        shutil.copy(p, tmp_path / p.name)
    text_vips = {"server1": ("192.168.56.111", "192.168.56.121"), "server2": ("192.168.56.112", "192.168.56.122")}
    for name, (old, new) in text_vips.items():
        f = tmp_path / f"{name}.conf"
        f.write_text(f.read_text().replace(old, new))
    found = [str(f) for f in findings(sorted(tmp_path.glob("*.conf"))) if f.check == "vip-is-host-address"]
    assert any("VIP 192.168.56.121, which is lvs1's own address" in f for f in found)
    assert any("VIP 192.168.56.122, which is lvs2's own address" in f for f in found)


def run(*args):
    return subprocess.run([sys.executable, "-m", "labs.lint", *args], cwd=REPO, capture_output=True, text=True)


def test_corrected_lab_is_clean():
    p = run("dual_master")
    assert p.returncode == 0 and "0 finding(s) in 4 config(s)" in p.stdout, p.stdout


@pytest.mark.parametrize("variant, check", [("shared_vrids", "vrid-reused"), ("weight_plus1", "weight-cannot-move"),
                                            ("no_arp", "dr-arp"), ("lvs2_both_backup", "no-master")])
def test_each_single_mistake_variant_is_found(variant, check):
    p = run("dual_master", "--variant", variant)
    assert p.returncode == 1 and f"{check}:" in p.stdout, p.stdout


@pytest.mark.parametrize("args, message", [(["/nonexistent.conf"], "no such file"),
                                           (["/etc/hostname"], "not a keepalived config")])
def test_bad_input(args, message):
    p = run(*args)
    assert p.returncode == 2 and message in p.stderr and p.stderr.count("\n") == 1


def test_json_findings_carry_host_file_line_and_fix():
    """--json on the seed variant: the same exit status and count as the lines, and every
    finding whose line names a file and line has them as fields, its host and fix too."""
    text, p = run("dual_master", "--variant", "seed"), run("dual_master", "--variant", "seed", "--json")
    doc = json.loads(p.stdout)
    assert p.returncode == text.returncode == doc["exit"] == 1 and doc["configs"] == 4, p.stdout
    assert f"{len(doc['findings'])} finding(s) in 4 config(s)" in text.stdout and len(doc["findings"]) == 12, text.stdout
    assert doc["notes"] == [line for line in text.stdout.splitlines() if line.startswith("note: ")]
    checks = {f["check"] for f in doc["findings"]}
    assert {"vrid-reused", "router-id", "no-master", "weight-cannot-move", "unknown-keyword", "dr-arp"} <= checks, checks
    for f in doc["findings"]:
        assert f["check"] and f["message"] and f["check"] not in f["message"], f
        if f["check"] in ("weight-cannot-move", "unknown-keyword"):  # their lines name file and line
            assert f["file"].endswith("keepalived.conf") and f["line"] == f["lines"][0] > 0 and f["host"], f
            assert f["file"] not in f["message"], f  # the location is a field, not in the sentence
        if f["check"] != "unknown-keyword":
            assert f["fix"] and f["fix"] not in f["message"], f
        if f["check"] in ("dr-arp", "weight-cannot-move"):
            assert f["host"] in ("server1", "server2"), f


def test_json_is_the_findings_the_lines_print():
    """The objects --json prints are the findings whose text the plain output prints, line
    for line (the article's configs: stable paths, file and line in several)."""
    found = findings(SEED)
    addresses = [f"--address={host}={ip}" for host, ip in ADDRESSES.items()]
    text, p = run(*map(str, SEED), *addresses), run(*map(str, SEED), *addresses, "--json")
    assert json.loads(p.stdout)["findings"] == [f.as_json() for f in found] and p.returncode == text.returncode == 1
    assert text.stdout.splitlines()[:len(found)] == [str(f) for f in found], text.stdout
    located = [f for f in found if re.search(r"\.conf:\d", str(f))]
    assert located and all(f.line and f"{f.file}:{f.line}" in str(f) for f in located), located


def test_each_finding_s_line_is_as_it_always_was(tmp_path):
    """The line built from the fields, pinned as lint printed it before it had fields: one
    of each layout (location first, in the middle, none; ': ' or '; ' before the fix)."""
    seed = f"{REPO}/topologies/seed_article"
    lines = {str(f) for f in findings(SEED)}
    assert {
        "vrid-reused: VRID 51 on enp0s8 is used by 2 different VRRP groups (192.168.56.131 on lvs1,lvs2; 192.168.56.111 "
        "on server1,server2): give each group its own virtual_router_id (1-255) on a shared segment",
        "router-id: router_id keep_101 is used by lvs1, lvs2, server1: give every host its own router_id",
        "weight-cannot-move: VI_1 (VRID 51, 192.168.56.111): track check_nginx_alive weight 1 on server1 "
        f"({seed}/server1.conf:35): a failed check leaves priority 100 >= 81 on server2, so the VIP never moves; "
        "use weight -21 or lower",
        "no-master: VI_2 (VRID 52, 192.168.56.132): no host is configured MASTER; set state MASTER on lvs2 (priority 100) "
        "so the configuration says who should hold the VIP",
        f"unknown-keyword: {seed}/lvs1.conf:62,73,93,103: keepalived does not know 'nb_get_retry' (keepalived 2.x calls "
        "it retry); it ignores the line",
        "dr-arp: server1 is a DR real server and nothing records its ARP sysctls: set net.ipv4.conf.all.arp_ignore=1 and "
        "net.ipv4.conf.all.arp_announce=2 (and put 192.168.56.131, 192.168.56.132 on lo) or clients may reach it directly",
    } <= lines, lines
    got = pair(tmp_path, dict(state="MASTER", more="    preempt_delay 5\n"), dict(priority=90))
    assert f"preempt-delay-ignored: VI_1 (VRID 51, 192.168.56.131) on lvs1 ({tmp_path / 'lvs1.conf'}:1): state MASTER " \
        "with preempt_delay 5: keepalived clears preempt_delay on a MASTER; give every host of the group state BACKUP " \
        "(the priorities still choose)" in got, got


def test_json_of_a_clean_lab_and_of_bad_input():
    p = run("dual_master", "--json")
    doc = json.loads(p.stdout)
    assert p.returncode == doc["exit"] == 0 and doc["findings"] == [] and doc["configs"] == 4 and doc["notes"], p.stdout
    p = run("/nonexistent.conf", "--json")
    assert p.returncode == json.loads(p.stdout)["exit"] == 2 and p.stderr.count("\n") == 1, p.stdout + p.stderr


def test_a_lab_file_is_linted_as_its_configs_and_sysctls():
    """The article's lab file: its configs as written plus the sysctls the lab file sets
    (none: arp_sysctls = false), so the same mistakes as the bare files, naming the user's files."""
    p = run("examples/article/article.toml")
    codes = [line.split(":")[0] for line in p.stdout.splitlines() if not line.startswith(("note", "12 finding"))]
    assert p.returncode == 1 and "12 finding(s) in 4 config(s)" in p.stdout, p.stdout
    assert sorted(codes) == sorted([f.check for f in findings(SEED)] + ["dr-arp", "dr-arp"]), p.stdout
    assert f"{REPO}/examples/article/lvs1.conf:62,73,93,103: keepalived does not know 'nb_get_retry'" in p.stdout
    clean = run("examples/lvs_three_servers/lvs_three_servers.toml")
    assert clean.returncode == 0 and "0 finding(s) in 2 config(s)" in clean.stdout, clean.stdout


INSTANCE = """vrrp_instance VI_1 {{
    state {state}
    interface eth0
    virtual_router_id {vrid}
    priority {priority}
    virtual_ipaddress {{
        {vip}/24
    }}
{more}}}
"""


def pair(tmp_path, a: dict, b: dict, scripts: str = ""):
    base = dict(state="BACKUP", vrid=51, priority=100, vip="192.168.56.131", more="")
    paths = []
    for name, changes in (("lvs1", a), ("lvs2", b)):
        path = tmp_path / f"{name}.conf"
        path.write_text(scripts + INSTANCE.format(**{**base, **changes}))
        paths.append(path)
    return [str(f) for f in findings(paths, {})]


def test_one_vip_under_two_vrids_is_two_masters(tmp_path):
    got = pair(tmp_path, dict(state="MASTER", vrid=100), dict(vrid=80, priority=90))
    assert any(f.startswith("two-masters: VIP 192.168.56.131 is held by 2 VRRP groups") for f in got), got


def test_track_weights_as_the_instance_applies_them(tmp_path):
    """The track line's weight overrides the script's; weight 0 is FAULT (the VIP moves)."""
    script = "vrrp_script chk {\n    script /bin/true\n    weight -50\n}\n"
    track = "    track_script {{\n        chk{}\n    }}\n"
    top, other = dict(state="MASTER", more=track.format(" weight -5")), dict(priority=90, more=track.format(""))
    got = pair(tmp_path, top, other, script)
    assert any("weight-cannot-move" in f and "track chk weight -5 on lvs1" in f and "lvs1.conf:" in f for f in got), got
    top["more"] = track.format(" weight 0")
    assert not any("weight-cannot-move" in f for f in pair(tmp_path, top, other, script))


def test_what_keepalived_t_rejects_is_a_finding_with_its_line(tmp_path):
    if not shutil.which(Keepalived.binary):
        pytest.skip("keepalived is not installed")
    got = pair(tmp_path, dict(state="MASTER", vip="300.1.1.1"), dict(priority=90))
    assert any(f.startswith(f"config: {tmp_path / 'lvs1.conf'}:7: (VI_1) VRRP parsed invalid IP 300.1.1.1")
               for f in got), got  # the reader knows this one itself
    (tmp_path / "lvs1.conf").write_text(INSTANCE.format(state="MASTER", vrid=51, priority=100, vip="192.168.56.131",
                                                        more="").replace("interface eth0", "interface lo"))
    got = [str(f) for f in findings([tmp_path / "lvs1.conf"], {})]  # this one only keepalived -t knows
    assert any(f.startswith(f"keepalived-t: {tmp_path / 'lvs1.conf'}:3: keepalived -t: (VI_1) cannot use a loopback")
               for f in got), got


def test_a_config_that_cannot_be_read_is_exit_2_with_file_and_line(tmp_path):
    (tmp_path / "k.conf").write_text("global_defs {\n  router_id a\n}\n}\n")
    p = run(str(tmp_path / "k.conf"))
    assert p.returncode == 2 and f"{tmp_path / 'k.conf'}:4: extra '}}'" in p.stderr and p.stderr.count("\n") == 1, p.stderr


def test_a_lab_file_s_finding_names_the_included_file_and_its_line(tmp_path):
    """lint reads a lab file's configs where they are, includes and all: a keyword keepalived
    does not know in an included file is named with that file and its line."""
    shutil.copytree(REPO / "examples" / "lvs_three_servers", tmp_path / "lab")
    conf = tmp_path / "lab" / "lvs1.conf"
    (tmp_path / "lab" / "extra.conf").write_text("global_defs {\n    no_such_keyword 1\n}\n")
    conf.write_text("include extra.conf\n" + conf.read_text())
    p = run(str(tmp_path / "lab" / "lvs_three_servers.toml"))
    assert f"{tmp_path / 'lab' / 'extra.conf'}:2: keepalived does not know 'no_such_keyword'" in p.stdout, p.stdout


def test_lint_builds_the_lab_as_run_does(tmp_path):
    """A topology with --servers and --set, a lab file with --set (written into copies of
    its configs): the configs labs.run would run; config files take none of them."""
    p = run("scale", "--servers", "4")
    assert p.returncode == 0 and "in 6 config(s)" in p.stdout, p.stdout + p.stderr
    p = run("dual_master", "--set", "advert_int=0.3")
    assert p.returncode == 0 and "in 4 config(s)" in p.stdout, p.stdout + p.stderr
    p = run(str(REPO / "examples" / "article" / "article.toml"), "--set", "advert_int=2")
    assert p.returncode in (0, 1) and "in 4 config(s)" in p.stdout and str(REPO / "examples") not in p.stdout, p.stdout
    p = run(*[str(f) for f in SEED], "--set", "advert_int=2")
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "config files are linted as written" in p.stderr, p.stderr
    p = run("dual_master", "--set", "advert_intt=2")
    assert p.returncode == 2 and "no such setting" in p.stderr, p.stderr
