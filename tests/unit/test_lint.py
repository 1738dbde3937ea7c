"""labs.lint on the article's own configs, on the corrected lab and on bad input."""
from __future__ import annotations

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
