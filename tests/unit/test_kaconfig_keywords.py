"""labs/kaconfig/keywords.json against the keepalived it describes: for every block of the
table, a config that uses each of the block's keywords at its place must give no
`Unknown keyword`, while an invented keyword in the same block must give one (so the test
can fail), and a word in a value block must be taken as data, not as a keyword.

One `keepalived --config-test` per block, not per keyword: keepalived reports each unknown
keyword with its line, so one run checks a whole block. keepalived -t needs no root; when
run as root, keepalived is started as nobody, so that what some handlers do while parsing
(PING_CHECK widens /proc/sys/net/ipv4/ping_group_range, config_save_dir creates its
directory) cannot touch the host.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import REPO
from labs.daemons.keepalived import Keepalived

KEEPALIVED = Path(Keepalived.binary)
TABLE = json.loads((REPO / "labs" / "kaconfig" / "keywords.json").read_text())["root"]
INVENTED = "halab_no_such_keyword"
DATA_WORD = "halab_value_word"   # written into every value block: data there, so never "Unknown"

pytestmark = pytest.mark.skipif(not KEEPALIVED.exists(), reason=f"{KEEPALIVED} is not installed")

# Not written: `net_namespace` makes keepalived -t enter (and as root create) that network namespace.
NOT_WRITTEN = {(): {"net_namespace"}}

# The words after a block keyword, before `{`.
HEADS = {
    "vrrp_instance": "VI_1", "vrrp_script": "chk", "vrrp_sync_group": "G1", "track_group": "TG1",
    "vrrp_track_process": "proc1", "bfd_instance": "bfd1", "track_file": "tf1", "vrrp_track_file": "tf2",
    "virtual_server": "192.0.2.1 80", "real_server": "192.0.2.2 80", "host": "", "url": "",
}
# Plausible arguments of line keywords (the rest get "1"). {dir} is a scratch directory.
ARGS = {
    "state": "BACKUP", "interface": "lo", "interfaces": "lo", "priority": "100", "advert_int": "1",
    "virtual_router_id": "51", "version": "3", "notify": "/bin/true", "notify_master": "/bin/true",
    "notify_backup": "/bin/true", "notify_fault": "/bin/true", "notify_stop": "/bin/true",
    "notify_deleted": "/bin/true", "notify_up": "/bin/true", "notify_down": "/bin/true", "script": "/bin/true",
    "misc_path": "/bin/true", "startup_script": "/bin/true", "shutdown_script": "/bin/true",
    "mcast_src_ip": "192.0.2.1", "unicast_src_ip": "192.0.2.1", "mcast_dst_ip": "224.0.0.18",
    "connect_ip": "192.0.2.2", "bindto": "192.0.2.1", "source_ip": "192.0.2.1", "neighbor_ip": "192.0.2.3",
    "neighbour_ip": "192.0.2.3", "router_id": "halab", "smtp_server": "127.0.0.1",
    "notification_email_from": "root@localhost", "lb_algo": "rr", "lvs_sched": "rr", "lb_kind": "DR",
    "lvs_method": "DR", "protocol": "TCP", "sorry_server": "192.0.2.9 80", "path": "/", "status_code": "200",
    "digest": "00000000000000000000000000000000", "auth_type": "PASS", "auth_pass": "secret",
    "user": "nobody", "script_user": "nobody", "file": "{dir}/track", "config_save_dir": "{dir}",
    "tmp_config_directory": "{dir}", "reload_file": "{dir}/reload", "reload_time_file": "{dir}/time",
    "reload_check_config": "{dir}/check.log", "umask": "022", "vrrp_mcast_group4": "224.0.0.18",
    "vrrp_mcast_group6": "ff02::12", "type": "A", "name": "bfd1", "process": "sshd", "helo_name": "halab",
    "http_protocol": "1.1", "virtualhost": "example.org", "ip_family": "inet", "ha_suspend": "",
    "lvs_sync_daemon": "lo VI_1", "lvs_sync_daemon_interface": "lo", "bind_if": "lo", "default_interface": "lo",
    "instance": "halab", "child_wait_time": "5", "process_name": "keepalived", "vrrp_process_name": "ka_vrrp",
    "checker_process_name": "ka_check", "lvs_process_name": "ka_check", "bfd_process_name": "ka_bfd",
    "snmp_socket": "udp:localhost:705", "dbus_service_name": "halab", "random_seed": "1",
}
# One plausible value per value keyword.
VALUES = {
    "virtual_ipaddress": "192.0.2.10/32", "virtual_ipaddress_excluded": "192.0.2.11/32",
    "unicast_peer": "192.0.2.12", "track_interface": "lo", "track_script": "chk", "track_file": "tf1",
    "track_process": "proc1", "track_bfd": "bfd1", "virtual_routes": "192.0.2.0/24 dev lo",
    "virtual_rules": "from 192.0.2.1 table 100", "static_ipaddress": "192.0.2.13/32 dev lo",
    "static_routes": "192.0.2.0/24 dev lo", "static_rules": "from 192.0.2.1 table 100", "group": "VI_1",
    "notification_email": "root@localhost", "linkbeat_interfaces": "lo", "interface_up_down_delays": "lo 1 1",
    "virtual_server_group": "192.0.2.1 80",
}
# Compiled out of Debian's build by the #if decisions of tools/keepalived_keywords.py: keepalived rejects them.
COMPILED_OUT = [(("global_defs",), "vrrp_ipsets")]   # _HAVE_LIBIPSET_ (only with iptables) is not defined

UNKNOWN = re.compile(r"Line (\d+)\) Unknown keyword '([^']*)'")
# What keepalived says when a keyword's kind is not what the config assumed: a value keyword
# written as a line ("Block X has extra parameters", then it reads on as data), a block keyword
# written as a line ("Missing '{'"), a line keyword given a block ("Unexpected '{'" / '}').
MISREAD = re.compile(r"Block \S+ has extra parameters|'\{' missing from beginning of block|Missing '\{'|Unexpected '\{'")


def blocks(children: dict, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every block of the table, the top level as ()."""
    yield path
    for kw, e in children.items():
        if e["kind"] == "block":
            yield from blocks(e["children"], path + (kw,))


def children_at(path: tuple[str, ...]) -> dict:
    cur = TABLE
    for kw in path:
        cur = cur[kw]["children"]
    return cur


def keyword_lines(kw: str, e: dict, scratch: str) -> list[str]:
    """The lines that use keyword kw once, with a plausible argument or value."""
    if e["kind"] == "line":
        return [f"{kw} {ARGS.get(kw, '1').format(dir=scratch)}".rstrip()]
    if e["kind"] == "values":
        name = " VSG1" if e.get("name_before_block") else ""
        return [f"{kw}{name} {{", f"  {VALUES.get(kw, '1')}", f"  {DATA_WORD}", "}"]
    return [f"{kw} {HEADS.get(kw, '')}".rstrip() + " {", "}"]


def config(path: tuple[str, ...], scratch: str, extra: list[str] = ()) -> tuple[str, int]:
    """A config using every keyword of the block at `path` (then `extra`, then the invented
    keyword) inside its parents; returns it and the invented keyword's line number."""
    body: list[str] = []
    for kw, e in children_at(path).items():
        if kw not in NOT_WRITTEN.get(path, ()):
            body += keyword_lines(kw, e, scratch)
    body += list(extra)
    body.append(f"{INVENTED} 1")
    lines = [f"{kw} {HEADS.get(kw, '')}".rstrip() + " {" for kw in path] + body + ["}"] * len(path)
    return "\n".join(lines) + "\n", len(path) + len(body)


@pytest.fixture
def scratch() -> Iterator[str]:
    """A directory keepalived can read when started as nobody (pytest's tmp_path is 0700)."""
    d = tempfile.mkdtemp(prefix="halab-kakw-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def config_test(text: str, scratch: str) -> tuple[str, dict[int, set[str]]]:
    """Run keepalived --config-test on text; its output and the unknown keywords per line."""
    conf = Path(scratch) / "keepalived.conf"
    conf.write_text(text)
    conf.chmod(0o644)
    cmd = [str(KEEPALIVED), "--config-test", "-f", str(conf)]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if not setpriv:
            pytest.skip("running as root without setpriv to start keepalived -t as nobody")
        cmd = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    out = p.stdout + p.stderr
    unknown: dict[int, set[str]] = {}
    for m in UNKNOWN.finditer(out):
        unknown.setdefault(int(m.group(1)), set()).add(m.group(2))
    return out, unknown


def test_table_has_the_blocks_a_reader_needs():
    root = TABLE
    assert root["vrrp_instance"]["children"]["virtual_ipaddress"]["kind"] == "values"
    assert root["vrrp_instance"]["children"]["authentication"]["kind"] == "block"
    rs = root["virtual_server"]["children"]["real_server"]
    assert {"TCP_CHECK", "HTTP_GET", "SSL_GET", "MISC_CHECK"} <= set(rs["children"])
    assert rs["children"]["HTTP_GET"]["children"]["url"]["kind"] == "block"
    assert root["global_defs"]["children"]["notification_email"]["kind"] == "values"
    assert root["virtual_server_group"] == {"kind": "values", "name_before_block": True}


@pytest.mark.parametrize("path", list(blocks(TABLE)), ids=lambda p: "/".join(p) or "top")
def test_every_keyword_of_the_block_is_known_and_an_invented_one_is_not(path, scratch):
    text, invented_line = config(path, scratch)
    out, unknown = config_test(text, scratch)
    shown = f"config:\n{text}\nkeepalived -t said:\n{out}"
    assert INVENTED in unknown.get(invented_line, set()), shown
    wrong = {line: words for line, words in unknown.items() if line != invented_line}
    assert not wrong, shown
    assert not MISREAD.search(out), shown


@pytest.mark.parametrize("path,kw", COMPILED_OUT)
def test_keywords_compiled_out_of_debians_build_are_unknown(path, kw, scratch):
    assert kw not in children_at(path)
    text, invented_line = config(path, scratch, extra=[f"{kw} 1"])
    out, unknown = config_test(text, scratch)
    assert kw in unknown.get(invented_line - 1, set()), out
