"""Lab files: the loader derives the same lab a topology declares, runs configs as written
(changed only where the lab needs it, each change listed), and refuses bad input in one line."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from labs import kaconfig
from labs.spec import labfile
from labs.kaconfig.model import default
from labs.daemons.keepalived import Keepalived
from labs.common.errors import LabError
from labs.lab.paths import RunPaths
from topologies import dual_master

ARTICLE = REPO / "examples" / "article" / "article.toml"
LVS3 = REPO / "examples" / "lvs_three_servers" / "lvs_three_servers.toml"
EXAMPLES = sorted((REPO / "examples").glob("*/*.toml"))
SAME = ("hosts", "director_instances", "server_instances", "virtual_servers", "interface", "unicast",
        "arp_sysctls", "expire_nodest_conn")


def timers_but_restart_wait(spec):
    """restart_wait lives in the check script's `sleep`, which the model reads from the file.
    The seed writes its retries as keepalived 1.x's nb_get_retry, which keepalived 2.x does not
    know: it runs its default retry (the timers as keepalived runs them)."""
    runs = dict(vars(spec.timers), retry=int(default("retry"))) if spec.checker_retry_keyword == "nb_get_retry" \
        else vars(spec.timers)
    return {k: v for k, v in runs.items() if k != "restart_wait"}


def same_instances(a, b, version=2):
    """Equal but for state_override entries that only repeat what the priorities say (and
    auth_pass, which VRRPv3 has not: it is not written)."""
    def norm(i):
        return (i.name, i.vrid, i.vip, i.auth_pass if version == 2 else "", i.priorities, tuple(i.state(h) for h in i.hosts))
    return [norm(i) for i in a] == [norm(i) for i in b]


@pytest.mark.parametrize("variant", ["default", "seed", "fast", "unicast"])
def test_dump_then_load_gives_the_topology_back(tmp_path, variant):
    spec = dual_master.spec(variant)
    back = labfile.load(labfile.dump(spec, tmp_path))
    assert back.hosts == spec.hosts and back.virtual_servers == spec.virtual_servers
    v = spec.timers.vrrp_version
    assert same_instances(back.director_instances, spec.director_instances, v)
    assert same_instances(back.server_instances, spec.server_instances, v)
    assert timers_but_restart_wait(back) == timers_but_restart_wait(spec)
    assert (back.interface, back.unicast, back.arp_sysctls, back.expire_nodest_conn, back.config_errors_ok) == \
        (spec.interface, spec.unicast, spec.arp_sysctls, spec.expire_nodest_conn, spec.config_errors_ok)
    assert [back.router_id(h.name) for h in spec.hosts] == [spec.router_id(h.name) for h in spec.hosts]


def test_the_articles_verbatim_configs_are_the_seed_variant():
    article, seed = labfile.load(ARTICLE), dual_master.spec("seed")
    assert article.hosts == seed.hosts and article.virtual_servers == seed.virtual_servers
    assert same_instances(article.director_instances, seed.director_instances)
    assert same_instances(article.server_instances, seed.server_instances)
    assert timers_but_restart_wait(article) == timers_but_restart_wait(seed)
    assert [article.router_id(h.name) for h in seed.hosts] == [seed.router_id(h.name) for h in seed.hosts]
    assert (article.arp_sysctls, article.expire_nodest_conn) == (seed.arp_sysctls, seed.expire_nodest_conn)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_every_example_loads(path):
    spec = labfile.load(path)
    assert spec.client_vips and spec.client and spec.files


def test_weights_and_plain_real_servers_come_from_the_config():
    spec = labfile.load(LVS3)
    (vs,) = spec.virtual_servers
    assert [(rs.ip, rs.weight) for rs in vs.real_servers] == [("10.20.0.11", 3), ("10.20.0.12", 2), ("10.20.0.13", 1)]
    assert vs.lb_algo == "wrr" and spec.interface == "eth1"
    assert spec.server_instances == () and [h.name for h in spec.real_servers] == ["web1", "web2", "web3"]
    assert spec.files_of("web1") is None and spec.files_of("lvs1") is not None
    assert (spec.timers.delay_loop, spec.timers.connect_timeout, spec.timers.retry) == (3.0, 1.0, 1)


def test_set_writes_the_value_into_every_config_and_lists_it():
    spec = labfile.load(ARTICLE, {"advert_int": "2", "delay_loop": "2"})  # VRRPv2: whole seconds
    assert spec.timers.advert_int == 2.0 and spec.timers.delay_loop == 2.0
    lvs1 = spec.files_of("lvs1")
    root = kaconfig.read(Path(lvs1.keepalived), text=lvs1.text).tree
    assert {i.value("advert_int") for i in root.all("vrrp_instance")} == {"2"}
    assert {vs.value("delay_loop") for vs in root.all("virtual_server")} == {"2"}
    assert any(c.startswith("--set advert_int=2: advert_int in vrrp_instance") for c in lvs1.changes)
    # comments and everything else untouched
    assert lvs1.text.count("\n") == Path(lvs1.keepalived).read_text().count("\n")


def render_as_written(spec, host, tmp_path):
    ka = Keepalived(spec, spec.host(host), RunPaths(tmp_path / "results", tmp_path / "run"))
    ka.render()
    return ka


def test_a_config_runs_as_written_but_for_the_listed_changes(tmp_path):
    spec = labfile.load(ARTICLE)
    ka = render_as_written(spec, "server1", tmp_path)
    original = Path(spec.files_of("server1").keepalived).read_text()
    ran = ka.config_file.read_text()
    installed = tmp_path / "run" / "server1" / "check_nginx_auto_pull.sh"
    assert installed.is_file() and installed.stat().st_mode & 0o777 == 0o755
    assert f'script "{installed}"' in ran and "/etc/keepalived/" not in ran
    assert kaconfig.read(ka.config_file).tree.one("global_defs").value("notify_fifo") == str(ka.notify_fifo)
    assert len(ka.changes) == 2 and "check_nginx_auto_pull.sh" in ka.changes[0] and "notify_fifo" in ka.changes[1]
    # undo the two listed changes: the file as written comes back
    undone = ran.replace(str(installed), "/etc/keepalived/check_nginx_auto_pull.sh")
    undone = undone.replace(f"\n    notify_fifo {ka.notify_fifo}", "")
    assert undone == original


def test_interfaces_are_renamed_to_the_labs_one(tmp_path):
    folder = tmp_path / "lab"
    shutil.copytree(LVS3.parent, folder)
    conf = folder / "lvs2.conf"
    conf.write_text(conf.read_text().replace("interface eth1", "interface ens3"))
    spec = labfile.load(folder / LVS3.name)
    ka = render_as_written(spec, "lvs2", tmp_path)
    assert "interface eth1" in ka.config_file.read_text() and "interface ens3" not in ka.config_file.read_text()
    assert any(c.startswith("interface ens3 -> eth1") for c in ka.changes)


def broken(tmp_path, edit_toml=None, edit_conf=None):
    folder = tmp_path / "lab"
    shutil.copytree(LVS3.parent, folder)
    toml = folder / LVS3.name
    if edit_toml:
        toml.write_text(edit_toml(toml.read_text()))
    if edit_conf:
        (folder / "lvs1.conf").write_text(edit_conf((folder / "lvs1.conf").read_text()))
    return toml


BAD = {
    "missing file": (dict(edit_toml=lambda t: t.replace('"lvs1.conf"', '"nosuch.conf"')), "no file nosuch.conf"),
    "outside the subnet": (dict(edit_toml=lambda t: t.replace('"10.20.0.13"', '"10.99.0.13"')),
                           "web3's address 10.99.0.13 is outside the subnet 10.20.0.0/24"),
    "same address": (dict(edit_toml=lambda t: t.replace('"10.20.0.13"', '"10.20.0.12"')),
                     "web2 and web3 both have the address 10.20.0.12"),
    "unknown role": (dict(edit_toml=lambda t: t.replace('role = "client"', 'role = "browser"')),
                     "has role 'browser'; a role is one of: real_server, director, client"),
    "keepalived -t rejects": (dict(edit_conf=lambda c: c.replace("advert_int 1", "advert_int 1\n    no_such_keyword 7")),
                              "keepalived -t rejects"),
    "unbalanced braces": (dict(edit_conf=lambda c: c + "\nvrrp_instance X {\n"), "'}' missing"),
    "VIP outside the subnet": (dict(edit_conf=lambda c: c.replace("10.20.0.100/24", "10.30.0.100/24")),
                               "10.30.0.100 is outside 10.20.0.0/24"),
    "unknown real server": (dict(edit_conf=lambda c: c.replace("real_server 10.20.0.13", "real_server 10.20.0.99")),
                            "real_server 10.20.0.99 is neither"),
    "not TOML": (dict(edit_toml=lambda t: t + "\nname = = 3\n"), "not valid TOML"),
    "virtual server by group": (dict(edit_conf=lambda c: c.replace("virtual_server 10.20.0.100 80 {", "virtual_server_group "
                                                                   "WEB {\n    10.20.0.100 80\n}\nvirtual_server group WEB {")),
                                "a virtual_server by group cannot be probed by the lab"),
    "a value missing": (dict(edit_conf=lambda c: c.replace("priority 150", "priority")), "lvs1.conf:14: 'priority' is missing"),
    "an include loop": (dict(edit_conf=lambda c: "include lvs1.conf\n" + c), "include loop"),
    "no VRID": (dict(edit_conf=lambda c: c.replace("virtual_router_id 10", "")), "has no valid virtual_router_id"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_lab_files_are_one_clear_error(tmp_path, case):
    edits, message = BAD[case]
    if case == "keepalived -t rejects" and not shutil.which(Keepalived.binary):
        pytest.skip("keepalived is not installed: nothing runs keepalived -t")
    with pytest.raises(LabError) as e:
        labfile.load(broken(tmp_path, **edits))
    assert message in str(e.value) and "\n" not in str(e.value)


def test_deep_nesting_with_a_setting_reads_in_one_line_or_loads(tmp_path):
    """A config nested 1000 levels deep (unknown blocks: keepalived reads them at the level
    they stand in) given a --set: no RecursionError, the setting still written."""
    lab = broken(tmp_path, edit_conf=lambda c: c + "foo {\n" * 1000 + "}\n" * 1000,
                 edit_toml=lambda t: t.replace('name = "lvs_three_servers"', 'name = "lvs_three_servers"\n'
                                               'config_errors_ok = true'))
    spec = labfile.load(lab, {"advert_int": "2"})  # keepalived -t flags the unknown blocks: run what it accepts
    assert spec.timers.advert_int == 2.0


def test_a_setting_the_configs_do_not_have_is_refused():
    with pytest.raises(LabError, match="--set script_interval: the lab file's configs have no line to change"):
        labfile.load(LVS3, {"script_interval": "1"})


def test_bad_lab_file_on_the_command_line_exits_2_in_one_line(tmp_path):
    toml = broken(tmp_path, edit_toml=lambda t: t.replace('role = "client"', 'role = "browser"'))
    for extra, message in (((), "a role is one of"), (("--variant", "seed"), "--variant change a Python topology")):
        p = subprocess.run([sys.executable, "-m", "labs.run", str(toml if not extra else LVS3), "--check", *extra],
                           cwd=REPO, capture_output=True, text=True, timeout=60)
        assert p.returncode == 2 and message in p.stderr and p.stderr.strip().count("\n") == 0, p.stderr


def test_dump_on_the_command_line(tmp_path):
    p = subprocess.run([sys.executable, "-m", "labs.run", "dual_master", "--variant", "fast", "--dump", str(tmp_path)],
                       cwd=REPO, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "dual_master.toml").is_file() and (tmp_path / "server1" / "check_nginx.sh").is_file()
    assert labfile.load(tmp_path / "dual_master.toml").timers.advert_int == 0.2


def configs_of(spec, tmp_path):
    """A run folder's configs/ as bring-up writes them (what the model reads)."""
    results = tmp_path / spec.name
    paths = RunPaths(results, tmp_path / f"{spec.name}-run")
    for host in (*spec.directors, *spec.real_servers):
        if spec.runs_keepalived(host.name):
            Keepalived(spec, host, paths).render()
    return results


def test_the_article_file_gets_the_seed_variants_expectations(tmp_path):
    """Every default scenario's expectations — windows, bases, targets — are the same for
    the article's verbatim configs run from the lab file as for `--variant seed`."""
    from labs.plan import scenario
    from labs.analysis import model
    from labs.lab.suite import DEFAULT_SCENARIOS

    article, seed = labfile.load(ARTICLE), dual_master.spec("seed")
    info = {"process_start_s": 0.09, "hosts": {h.name: {"address": h.ip, "role": h.role} for h in seed.hosts}}
    m_article, m_seed = (model.load(configs_of(s, tmp_path), info) for s in (article, seed))
    assert (m_article.restart_wait, m_article.script_stops_keepalived) == (5.0, True)
    for name in DEFAULT_SCENARIOS:
        loaded = scenario.load(name)
        assert loaded.targets(article) == loaded.targets(seed)
        for target in loaded.targets(seed):
            assert model.for_scenario(loaded, m_article, target) == model.for_scenario(loaded, m_seed, target), (name, target)


PAIR = REPO / "examples" / "unicast_pair" / "unicast_pair.toml"


def pair_with(tmp_path, line):
    """The unicast pair with `line` added to web1's instance (both hosts start BACKUP, as
    keepalived wants with nopreempt)."""
    folder = tmp_path / "pair"
    shutil.copytree(PAIR.parent, folder)
    for name in ("web1.conf", "web2.conf"):
        conf = folder / name
        text = conf.read_text().replace("state MASTER", "state BACKUP")
        if name == "web1.conf":
            text = text.replace("    advert_int 0.5\n", f"    advert_int 0.5\n    {line}\n")
        conf.write_text(text)
    return labfile.load(folder / PAIR.name)


def expectations_of(spec, tmp_path, scenario, target):
    import labs.plan.scenario
    from labs.analysis import model

    info = {"process_start_s": 0.0, "hosts": {h.name: {"address": h.ip, "role": h.role} for h in spec.hosts}}
    m = model.load(configs_of(spec, tmp_path), info)
    return model.for_scenario(labs.plan.scenario.load(scenario), m, target)


def test_nopreempt_keeps_the_vip_where_it_went(tmp_path):
    spec = pair_with(tmp_path, "nopreempt")
    assert spec.server_instances[0].nopreempt == ("web1",)
    got = expectations_of(spec, tmp_path, "stop_keepalived", "web1")
    kinds = [(e.kind, e.phase) for e in got if e.kind in ("move", "stay")]
    assert kinds == [("move", "inject"), ("stay", "heal")]
    (stay,) = [e for e in got if e.kind == "stay"]
    assert stay.host == "web2"


def test_preempt_delay_delays_the_failback(tmp_path):
    spec = pair_with(tmp_path, "preempt_delay 4")
    (back,) = [e for e in expectations_of(spec, tmp_path, "crash_keepalived", "web1") if e.kind == "move" and e.phase == "heal"]
    # the master-down interval of web1 (3 x 0.5 + skew ~0.07 s) is shorter than the delay
    master_down = 3 * 0.5 + (256 - 110) / 256 * 0.5
    assert back.window.earliest == pytest.approx(4.0) and back.window.latest == pytest.approx(4.0 + master_down + 0.25, abs=0.01)
    assert "preempt_delay 4" in back.window.basis


def test_vrrp_track_process_is_refused_with_the_reason(tmp_path):
    """The kernel's process-events connector answers only in the initial network namespace:
    in a lab host keepalived would count the process as gone from the start."""
    folder = tmp_path / "pair"
    shutil.copytree(PAIR.parent, folder)
    conf = folder / "web1.conf"
    conf.write_text(conf.read_text() + "\nvrrp_track_process nginx {\n    process nginx\n    weight -20\n}\n")
    with pytest.raises(LabError, match="vrrp_track_process, which cannot run in the lab: .* initial network namespace"):
        labfile.load(folder / PAIR.name)
