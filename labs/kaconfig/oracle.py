"""keepalived itself as the oracle: run keepalived 2.2.7 on a config, make it dump what it
parsed, and read the dump back as plain data — the ground truth the config reader
(labs.kaconfig) is tested against.

Sent SIGUSR1, keepalived's parent process writes `keepalived_parent.data` and passes the
signal on to its children (`propagate_signal`, keepalived/core/main.c): the VRRP process
writes `keepalived.data` (`vrrp_print_data`, keepalived/vrrp/vrrp_print.c), the checker
process `keepalived_check.data` (`check_print_data`, keepalived/check/check_print.c), the
BFD process `keepalived_bfd.data`. They go to keepalived's tmp dir: `$TMPDIR` when it is an
absolute path, else /tmp (`set_tmp_dir`, lib/utils.c); no keyword moves them
(`tmp_config_directory` moves only the config copy the children read). With
`data_use_instance` and an `instance`/`net_namespace`, the names gain `.<ns>_<instance>`
before `.data` (`open_dump_file`, keepalived/core/global_data.c). Every run here gets a
TMPDIR of its own, so runs side by side never share a dump file and need no lock.

Each run gets its own network and UTS namespaces (`unshare --net --uts`, anonymous: they
vanish with the last process in them, so nothing named is left behind even if this
process is killed), with the interfaces the config names made there (dummy links, veth
pairs where the kernel has no dummy driver) and a fixed node name, `keepalived-oracle`:
keepalived's config id defaults to the node name, so `@NAME` lines would otherwise depend
on the machine. The config's scripts (vrrp_script, notify, MISC_CHECK) really run, as
root, in that namespace: it isolates the network, not the filesystem.

The checker process needs IPVS: where the kernel has none (this machine), it exits at
start and takes keepalived down, so natively the checker is left out (`--vrrp`) unless
IPVS is loaded. `python -m labs.kaconfig.oracle --out DIR CONFIG...` boots User-mode Linux
(labs.kernel.uml, which loads ip_vs) once and runs every config in it.

Standard library only: inside User-mode Linux every import costs ~20x.
"""
from __future__ import annotations

import argparse
import glob as globmod
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

VRRP_DUMP = "keepalived.data"  # the VRRP process's, on SIGUSR1
CHECK_DUMP = "keepalived_check.data"  # the checker process's, on SIGUSR1
PARENT_DUMP = "keepalived_parent.data"  # the parent's (global_defs only), on SIGUSR1
BFD_DUMP = "keepalived_bfd.data"  # the BFD process's, on SIGUSR1 (kept as text, not parsed)
NODE_NAME = "keepalived-oracle"  # the node name in the run's UTS namespace: the default config id
STARTED = "Startup complete"  # the parent's log line once every child has read the config (config_notify.c)
NOTHING = "keepalived has no configuration to run"  # no child to start: the parent alone runs (main.c)
CHILD_LINE = re.compile(r"Starting (VRRP|Healthcheck|BFD) child process, pid=(\d+)")
CHILD_DUMPS = {"VRRP": VRRP_DUMP, "Healthcheck": CHECK_DUMP, "BFD": BFD_DUMP}
PEER_PREFIX = "oraclepeer"  # the far end of a veth pair standing in for a dummy link
IFNAME = re.compile(r"^[A-Za-z0-9_.:-]{1,15}$")
SETUP_FAILED = 97  # the namespace's setup script's exit status when `ip` failed
LOG_KEEP = 200_000  # characters of a runaway log kept at each end (a config keepalived loops on logs without end)
STOP_WAIT = 5.0  # seconds after SIGTERM before SIGKILL (keepalived's VRRP process lingers 1 s by design)


class OracleError(RuntimeError):
    """The oracle could not get an answer (not keepalived refusing the config: that is an
    answer, `exit_status` in the result). `log` is keepalived's output so far."""

    def __init__(self, message: str, log: str = ""):
        super().__init__(message)
        self.log = log


# ---------------------------------------------------------------- the dumps' text

SECTION = re.compile(r"^\s*------< (.+?) >------\s*$")


def _lines(text: str) -> list[tuple[int, str]]:
    """(indent, text) for each non-blank line: the dumps nest by leading spaces."""
    out = []
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped:
            out.append((len(raw) - len(raw.lstrip(" ")), stripped))
    return out


def _sections(text: str) -> list[tuple[str, list[tuple[int, str]]]]:
    """The dump cut at its top-level `------< NAME >------` lines (column 0)."""
    out: list[tuple[str, list[tuple[int, str]]]] = []
    for indent, line in _lines(text):
        m = SECTION.match(line)
        if m and indent == 0:
            out.append((m.group(1), []))
        elif out:
            out[-1][1].append((indent, line))
    return out


def _key_value(line: str) -> tuple[str, str] | None:
    """`Key = value` (keepalived's usual form), also `Key : value` and `X is Y`."""
    for sep in (" = ", " : "):
        if sep in line:
            key, value = line.split(sep, 1)
            return key.strip(), value.strip()
    if line.endswith(" =") or line.endswith(" :"):
        return line[:-2].strip(), ""
    m = re.match(r"^(.+?) is (\S+)$", line)
    if m:
        return m.group(1), m.group(2)
    return None


def _header(line: str) -> str | None:
    """A list's header (`Tracked scripts :`, `Virtual IP (2):`, `Flags:`) as its name."""
    if not line.endswith(":"):
        return None
    return re.sub(r"\s*\(\d+\)$", "", line[:-1].strip())


class _Block:
    """One dumped object: its `key = value` lines, its lists (a header, then lines indented
    further) and its other lines, kept for the typed view built from them."""

    def __init__(self, title: str):
        self.title = title
        self.attrs: dict[str, str] = {}
        self.lists: dict[str, list[str]] = {}
        self.notes: list[str] = []

    def add(self, indent: int, line: str, base: int, current: list[str | None]) -> None:
        """A line of the object, `base` its own attributes' indent; `current[0]` the list
        being filled."""
        if indent > base and current[0] is not None:
            self.lists[current[0]].append(line)
            return
        head = _header(line)
        if head is not None:
            current[0] = head
            self.lists.setdefault(head, [])
            return
        current[0] = None
        kv = _key_value(line)
        if kv:
            self.attrs.setdefault(kv[0], kv[1])
        else:
            self.notes.append(line)


def _blocks(lines: list[tuple[int, str]], start: Callable[[int, str], str | None], base: int = 3) -> list[_Block]:
    """Cut a section into objects: `start` names the line that begins one (or None)."""
    out: list[_Block] = []
    current: list[str | None] = [None]
    for indent, line in lines:
        title = start(indent, line)
        if title is not None:
            out.append(_Block(title))
            current[0] = None
        elif out:
            out[-1].add(indent, line, base, current)
    return out


def _starting(prefix: str) -> Callable[[int, str], str | None]:
    def start(indent: int, line: str) -> str | None:
        return line[len(prefix):] if indent == 1 and line.startswith(prefix) else None
    return start


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    m = re.match(r"^-?\d+", value.strip())
    return int(m.group(0)) if m else None


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    m = re.match(r"^-?\d+(\.\d+)?", value.strip())
    return float(m.group(0)) if m else None


def _usecs(value: str | None) -> float | None:
    """`3000000 us` (the checkers' timers) as seconds."""
    n = _int(value)
    return None if n is None else n / 1_000_000


def _bool(value: str | None) -> bool | None:
    if value is None:
        return None
    word = value.strip().split(" ")[0].lower()
    if word in ("yes", "true", "on", "enabled"):
        return True
    if word in ("no", "false", "off", "disabled"):
        return False
    return None


def command_words(command: str) -> list[str]:
    """A command as keepalived dumps it (`cmd_str`: each word in single quotes, the first
    bare if it starts with `<` or `>`) back into its words."""
    words = re.findall(r"'([^']*)'|(\S+)", command)
    return [quoted or bare for quoted, bare in words]


TRACKED = re.compile(r"^(?P<name>.+?),? weight (?P<weight>-?\d+)(?P<reverse> reverse)?(?P<dynamic> \(dynamic\))?$")


def _tracked(items: list[str]) -> list[dict[str, Any]]:
    """`chk weight -20 reverse`, `VI_1, weight 10`, `/path, weight 0`: what keepalived
    applies (after a track_script line's own weight, sync-group rules, ...)."""
    out = []
    for item in items:
        m = TRACKED.match(item)
        if m:
            entry: dict[str, Any] = {"name": m.group("name"), "weight": int(m.group("weight")),
                                     "reverse": bool(m.group("reverse"))}
            if m.group("dynamic"):
                entry["dynamic"] = True
            out.append(entry)
        else:
            out.append({"name": item, "weight": None, "reverse": False})
    return out


def _address_line(line: str) -> dict[str, Any]:
    """A virtual (or static) address as `format_ipaddress` writes it: the address (with
    `/prefix` unless it is /32 or /128), then `brd X`, `dev X`, `scope X`, `label X`, ...,
    and flags (`no_track`, `set`, ...)."""
    words = line.split()
    out: dict[str, Any] = {"address": words[0] if words else "", "raw": line}
    flags = []
    i = 1
    while i < len(words):
        word = words[i]
        if word in ("brd", "dev", "scope", "label", "peer", "track_group", "preferred_lft") and i + 1 < len(words):
            out[word] = words[i + 1]
            i += 2
            continue
        flags.append(word)
        i += 1
    if "dev" in out and "@" in out["dev"]:
        out["dev"], out["base_dev"] = out["dev"].split("@", 1)
    out["flags"] = flags
    return out


def _notify_scripts(attrs: dict[str, str]) -> dict[str, dict[str, Any]]:
    """`Master state transition script = 'x' 'y', uid:gid 0:0` lines, by state (lower case)."""
    out = {}
    for key, value in attrs.items():
        if key.endswith(" state transition script"):
            command, _, ids = value.rpartition(", uid:gid ")
            out[key[: -len(" state transition script")].lower()] = {"command": command, "args": command_words(command),
                                                                    "uid_gid": ids}
    return out


# ---------------------------------------------------------------- global_defs

def parse_global(lines: list[tuple[int, str]]) -> dict[str, Any]:
    """`------< Global definitions >------` (dump_global_data, keepalived/core/global_data.c),
    as the dumping process holds it: the parent, the VRRP and the checker process each
    dump their own copy (the parent's GARP lower-priority fields stay unset, 4294967295).

    Keys (None when the dump has no such line; `raw` keeps every `Key = value` line):
    - router_id: ` Router ID = LVS_A` (keepalived defaults it to the node name)
    - vrrp_version: ` VRRP default protocol version = 2` (vrrp_version)
    - garp_delay: ` Gratuitous ARP delay = 5` (vrrp_garp_master_delay, s)
    - garp_repeat: ` Gratuitous ARP repeat = 5` (vrrp_garp_master_repeat)
    - garp_refresh: ` Gratuitous ARP refresh timer = 10` (vrrp_garp_master_refresh, s; 0 = never)
    - garp_refresh_repeat: ` Gratuitous ARP refresh repeat = 1`
    - garp_lower_prio_delay, garp_lower_prio_repeat: ` Gratuitous ARP lower priority delay = 5`
    - garp_interval, gna_interval: ` Gratuitous ARP interval = 0.000000` (s)
    - down_timer_adverts: ` Num adverts before down = 3`
    - lower_prio_send_advert: ` Send advert after receive lower priority advert = true`
      (not vrrp_lower_prio_no_advert)
    - higher_prio_send_advert: ` Send advert after receive higher priority advert = false`
    - default_interface: ` Default interface = eth0` (VRRP process only)
    - dynamic_interfaces: ` Dynamic interfaces = false`
    - vrrp_strict: ` VRRP strict mode = false`
    - check_unicast_src: ` VRRP check unicast_src = false`
    - skip_check_adv_addr: ` VRRP skip check advert addresses = false`
    - mcast_group4, mcast_group6: ` VRRP IPv4 mcast group = 224.0.0.18`
    - notify_priority_changes: ` VRRP notify priority changes = false`
    - max_auto_priority: ` Max auto priority = 0` (None when `Disabled`)
    - script_security: ` Script security disabled` (bool)
    - script_uid_gid: ` Default script uid:gid 0:0`
    - notify_fifo, vrrp_notify_fifo, lvs_notify_fifo: ` VRRP notify fifo = /x, uid:gid 0:0` (the path)
    - instance_name: ` Instance name = x`; network_namespace: ` Network namespace = (default)`
    - lvs_flush: ` LVS flush = false`; lvs_flush_on_stop: ` LVS flush on stop = disabled`
    - checker_log_all_failures: ` Checkers log all failures = false`
    - lvs_syncd: {interface, vrrp_instance, syncid} from ` LVS syncd interface = eth0`, ...
    - smtp_server, email_from, smtp_alert (` Default smtp_alert = unset`)
    - vrrp_startup_delay: ` vrrp_startup_delay = 5` (s)
    """
    raw: dict[str, str] = {}
    notes: list[str] = []
    emails: list[str] = []
    in_emails = False
    for indent, line in lines:
        if in_emails and indent > 1:
            emails.append(line)
            continue
        in_emails = line == "Email notification to:"
        if in_emails:
            continue
        kv = _key_value(line)
        if kv:
            raw.setdefault(*kv)
        else:
            notes.append(line)
    uid_gid = next((n.split(" ", 3)[3] for n in notes if n.startswith("Default script uid:gid ")), None)
    security = next((n.split(" ")[2] for n in notes if n.startswith("Script security ")), None)

    def fifo(key: str) -> str | None:
        value = raw.get(key)
        return value.rsplit(", uid:gid ", 1)[0] if value else None

    max_auto = raw.get("Max auto priority")
    syncd = None
    if "LVS syncd interface" in raw:
        syncd = {"interface": raw["LVS syncd interface"], "syncid": _int(raw.get("LVS syncd syncid")),
                 "vrrp_instance": raw.get("LVS syncd vrrp instance") or raw.get("LVS syncd vrrp name")}
    return {
        "router_id": raw.get("Router ID"),
        "vrrp_version": _int(raw.get("VRRP default protocol version")),
        "garp_delay": _int(raw.get("Gratuitous ARP delay")),
        "garp_repeat": _int(raw.get("Gratuitous ARP repeat")),
        "garp_refresh": _int(raw.get("Gratuitous ARP refresh timer")),
        "garp_refresh_repeat": _int(raw.get("Gratuitous ARP refresh repeat")),
        "garp_lower_prio_delay": _int(raw.get("Gratuitous ARP lower priority delay")),
        "garp_lower_prio_repeat": _int(raw.get("Gratuitous ARP lower priority repeat")),
        "garp_interval": _float(raw.get("Gratuitous ARP interval")),
        "gna_interval": _float(raw.get("Gratuitous NA interval")),
        "down_timer_adverts": _int(raw.get("Num adverts before down")),
        "lower_prio_send_advert": _bool(raw.get("Send advert after receive lower priority advert")),
        "higher_prio_send_advert": _bool(raw.get("Send advert after receive higher priority advert")),
        "default_interface": raw.get("Default interface"),
        "dynamic_interfaces": _bool(raw.get("Dynamic interfaces")),
        "vrrp_strict": _bool(raw.get("VRRP strict mode")),
        "check_unicast_src": _bool(raw.get("VRRP check unicast_src")),
        "skip_check_adv_addr": _bool(raw.get("VRRP skip check advert addresses")),
        "mcast_group4": raw.get("VRRP IPv4 mcast group"),
        "mcast_group6": raw.get("VRRP IPv6 mcast group"),
        "notify_priority_changes": _bool(raw.get("VRRP notify priority changes")),
        "max_auto_priority": None if max_auto in (None, "Disabled") else _int(max_auto),
        "script_security": None if security is None else security == "enabled",
        "script_uid_gid": uid_gid,
        "notify_fifo": fifo("Global notify fifo"),
        "vrrp_notify_fifo": fifo("VRRP notify fifo"),
        "lvs_notify_fifo": fifo("LVS notify fifo"),
        "instance_name": raw.get("Instance name"),
        "network_namespace": raw.get("Network namespace"),
        "lvs_flush": _bool(raw.get("LVS flush")),
        "lvs_flush_on_stop": raw.get("LVS flush on stop"),
        "checker_log_all_failures": _bool(raw.get("Checkers log all failures")),
        "lvs_syncd": syncd,
        "smtp_server": raw.get("Smtp server"),
        "email_from": raw.get("Email notification from"),
        "emails": emails,
        "smtp_alert": raw.get("Default smtp_alert"),
        "vrrp_startup_delay": _float(raw.get("vrrp_startup_delay")),
        "raw": raw,
        "notes": notes,
    }


# ---------------------------------------------------------------- the VRRP process's dump

def _advert_int(value: str | None) -> float | None:
    """`1 sec` (VRRPv2: whole seconds, keepalived divides by TIMER_HZ) or `500 milli-sec` (v3)."""
    if value is None:
        return None
    n = _float(value)
    if n is None:
        return None
    return n / 1000 if "milli" in value else n


def _instance(block: _Block) -> dict[str, Any]:
    """One ` VRRP Instance = NAME` of `------< VRRP Topology >------` (dump_vrrp,
    keepalived/vrrp/vrrp_data.c). Keys, with the dump's line:
    - name: ` VRRP Instance = VI_1`
    - version: `   VRRP Version = 2`
    - sync_group: `   Sync group = G1` (None outside a group)
    - native_ipv6: `   Using Native IPv6`
    - state: `   State = BACKUP` — the state at dump time, not the configured one: a
      `state MASTER` below priority 255 starts as BACKUP (vrrp_init_state)
    - master_router, master_priority: `   Master router = 192.0.2.2` (only in BACKUP)
    - wantstate: `   Wantstate = BACKUP` (also at dump time)
    - flags: the lines under `   Flags:` (`Using unicast`; [] for `   Flags: none`)
    - unicast: `     Using unicast` among the flags
    - config_faults: `   Number of config faults = 0`
    - interface: `   Interface = eth0` (the VMAC's name with use_vmac; base_interface then
      from `, vmac on eth0`); None for `not configured`
    - src_ip, src_ip_from_config: `   Using src_ip = 192.0.2.1 (from configuration)`
    - mcast_address: `   Multicast address 224.0.0.18` (multicast only)
    - garp_delay, garp_repeat, garp_refresh, garp_refresh_repeat, garp_lower_prio_delay,
      garp_lower_prio_repeat: `   Gratuitous ARP refresh = 10` (s / counts)
    - down_timer_adverts: `   Down timer adverts = 3`
    - lower_prio_send_advert, higher_prio_send_advert: `   Send advert after receive
      higher priority advert = false`
    - vrid: `   Virtual Router ID = 51`
    - priority: `   Priority = 100` — the base priority as configured (the `@id` line
      that applies; 100 when omitted)
    - effective_priority, total_priority: `   Effective priority = 180` — at dump time,
      base plus the weights of tracked objects then failing or up
    - advert_int: `   Advert interval = 1 sec` / `= 500 milli-sec`, in seconds (float)
    - accept: `   Accept = enabled`
    - nopreempt: `   Preempt = disabled` (True); keepalived clears nopreempt itself with
      `state MASTER` (logged)
    - preempt_delay: `   Preempt delay = 3 secs` (s; 0.0 when the line is absent)
    - promote_secondaries: `   Promote_secondaries = disabled`
    - auth_type, auth_pass: `   Authentication type = SIMPLE_PASSWORD`, `   Password = x`
    - strict: `   Enforcing strict VRRP compliance`
    - vmac: `   Use VMAC, i/f name vrrp.51, ...` (the VMAC interface's name)
    - vips, excluded_vips: the addresses under `   Virtual IP (2):` / `   Virtual IP Excluded :`,
      as written: `192.168.56.131/24` keeps its prefix, a /32 has none
    - vip_details, excluded_vip_details: each such line split (`_address_line`):
      `     192.168.56.131/24 dev eth0 scope global` -> {address, dev, scope, flags, raw}
    - unicast_ttl: `   Unicast TTL = 255`; check_unicast_src: `   Check unicast src : no`
    - unicast_peers: the addresses under `   Unicast Peer :` (`     192.0.2.2 min_ttl 0 max_ttl 255`)
    - unicast_peer_details: [{address, min_ttl, max_ttl}]
    - track_interfaces: under `   Tracked interfaces :`, `     eth1 weight 10` -> [{name, weight, reverse}]
    - track_scripts: under `   Tracked scripts :`, `     chk weight -35 reverse` (the weight
      keepalived applies: the track_script line's own, else the vrrp_script's; 0 when a
      sync group ignores weights; scripts with weights dropped in a sync group are absent)
    - track_files: under `   Tracked files :`, `     /path, weight 0`
    - track_processes, track_bfds: the lines under `   Tracked processes :` / `   Tracked BFDs :`
    - virtual_routes, virtual_rules: the lines under `   Virtual Routes :` / `   Virtual Rules :`
    - smtp_alert: `   Using smtp notification = no`
    - notify_deleted: `   Notify deleted = Fault`
    - notify: {backup|master|fault|stop|deleted|generic|master rx lower pri: {command, args,
      uid_gid}} from `   Master state transition script = '/x' 'y', uid:gid 0:0`
    - notify_priority_changes: `   Notify priority changes = false`
    - raw: every `key = value` line; notes: the other lines
    """
    a = block.attrs
    lists = block.lists
    flags = lists.get("Flags", [])
    interface = a.get("Interface")
    base_interface = None
    if interface is not None:
        m = re.match(r"^(\S+), (?:vmac|ipvlan) on (\S+)", interface)
        if m:
            interface, base_interface = m.group(1), m.group(2)
        elif interface == "not configured":
            interface = None
    src = a.get("Using src_ip")
    src_ip = None if src is None else src.split(" ")[0]
    peers = []
    for item in lists.get("Unicast Peer", []):
        words = item.split()
        peers.append({"address": words[0], "min_ttl": _int(words[2]) if len(words) > 2 else None,
                      "max_ttl": _int(words[4]) if len(words) > 4 else None})
    vips = [_address_line(x) for x in lists.get("Virtual IP", [])]
    evips = [_address_line(x) for x in lists.get("Virtual IP Excluded", [])]
    vmac = next((n for n in block.notes if n.startswith("Use VMAC")), None)
    mcast = next((n.split(" ", 2)[2] for n in block.notes if n.startswith("Multicast address ")), None)
    return {
        "name": block.title,
        "version": _int(a.get("VRRP Version")),
        "sync_group": a.get("Sync group"),
        "native_ipv6": "Using Native IPv6" in block.notes,
        "state": a.get("State"),
        "master_router": a.get("Master router"),
        "master_priority": _int(a.get("Master priority")),
        "wantstate": a.get("Wantstate"),
        "flags": flags,
        "unicast": any(f.startswith("Using unicast") for f in flags),
        "config_faults": _int(a.get("Number of config faults")),
        "interface": interface,
        "base_interface": base_interface,
        "src_ip": None if src_ip == "(none)" else src_ip,
        "src_ip_from_config": bool(src and "(from configuration)" in src),
        "mcast_address": mcast.split(",")[0] if mcast else None,
        "garp_delay": _int(a.get("Gratuitous ARP delay")),
        "garp_repeat": _int(a.get("Gratuitous ARP repeat")),
        "garp_refresh": _int(a.get("Gratuitous ARP refresh")),
        "garp_refresh_repeat": _int(a.get("Gratuitous ARP refresh repeat")),
        "garp_lower_prio_delay": _int(a.get("Gratuitous ARP lower priority delay")),
        "garp_lower_prio_repeat": _int(a.get("Gratuitous ARP lower priority repeat")),
        "down_timer_adverts": _int(a.get("Down timer adverts")),
        "lower_prio_send_advert": _bool(a.get("Send advert after receive lower priority advert")),
        "higher_prio_send_advert": _bool(a.get("Send advert after receive higher priority advert")),
        "vrid": _int(a.get("Virtual Router ID")),
        "priority": _int(a.get("Priority")),
        "effective_priority": _int(a.get("Effective priority")),
        "total_priority": _int(a.get("Total priority")),
        "advert_int": _advert_int(a.get("Advert interval")),
        "accept": _bool(a.get("Accept")),
        "nopreempt": a.get("Preempt") == "disabled",
        "preempt_delay": _float(a.get("Preempt delay")) or 0.0,
        "promote_secondaries": _bool(a.get("Promote_secondaries")),
        "auth_type": a.get("Authentication type"),
        "auth_pass": a.get("Password"),
        "strict": "Enforcing strict VRRP compliance" in block.notes,
        "vmac": vmac.split("i/f name ", 1)[1].split(",")[0] if vmac and "i/f name " in vmac else None,
        "vips": [v["address"] for v in vips],
        "vip_details": vips,
        "excluded_vips": [v["address"] for v in evips],
        "excluded_vip_details": evips,
        "unicast_ttl": _int(a.get("Unicast TTL")),
        "check_unicast_src": _bool(a.get("Check unicast src")),
        "unicast_peers": [p["address"] for p in peers],
        "unicast_peer_details": peers,
        "track_interfaces": _tracked(lists.get("Tracked interfaces", [])),
        "track_scripts": _tracked(lists.get("Tracked scripts", [])),
        "track_files": _tracked(lists.get("Tracked files", [])),
        "track_processes": lists.get("Tracked processes", []),
        "track_bfds": lists.get("Tracked BFDs", []),
        "virtual_routes": lists.get("Virtual Routes", []),
        "virtual_rules": lists.get("Virtual Rules", []),
        "smtp_alert": _bool(a.get("Using smtp notification")),
        "notify_deleted": a.get("Notify deleted"),
        "notify": _notify_scripts(a),
        "notify_priority_changes": _bool(a.get("Notify priority changes")),
        "raw": a,
        "notes": block.notes,
    }


def _sync_group(block: _Block) -> dict[str, Any]:
    """One ` VRRP Sync Group = G1, BACKUP` (dump_sync_group). Keys:
    - name, state: ` VRRP Sync Group = G1, BACKUP` (state at dump time)
    - members: the names under `   VRRP member instances :` (`     VI_1`)
    - tracking_weight: `   sync group tracking weight set` (sync_group_tracking_weight)
    - track_interfaces, track_scripts, track_files: as an instance's
    - smtp_alert, notify (as an instance's), notify_priority_changes
    """
    name, _, state = block.title.partition(", ")
    a = block.attrs
    return {
        "name": name,
        "state": state or None,
        "members": block.lists.get("VRRP member instances", []),
        "tracking_weight": "sync group tracking weight set" in block.notes,
        "track_interfaces": _tracked(block.lists.get("Tracked interfaces", [])),
        "track_scripts": _tracked(block.lists.get("Tracked scripts", [])),
        "track_files": _tracked(block.lists.get("Tracked files", [])),
        "smtp_alert": _bool(a.get("Using smtp notification")),
        "notify": _notify_scripts(a),
        "notify_priority_changes": _bool(a.get("Notify priority changes")),
        "raw": a,
    }


def _script(block: _Block) -> dict[str, Any]:
    """One ` VRRP Script = NAME` (dump_vscript). Keys:
    - name: ` VRRP Script = chk`
    - command: `   Command = '/usr/bin/true'` as dumped (keepalived resolves the program's
      path: `/bin/true` is dumped as `/usr/bin/true` on a merged-/usr system); args: its words
    - interval, timeout: `   Interval = 2 sec` (whole seconds: keepalived divides by TIMER_HZ)
    - weight, weight_reverse: `   Weight = -20 reverse` (the script's own weight; what an
      instance applies is in its track_scripts)
    - rise, fall: `   Rise = 3`, `   Fall = 2`
    - insecure: `   Insecure = no`; uid_gid: `   Script uid:gid = 0:0`
    - tracking: under `   Tracking instances :`, `     VI_2, weight -20` -> [{name, weight, reverse}]
    - result, status, init_state, state: runtime (`   Status = GOOD`)
    """
    a = block.attrs
    weight = a.get("Weight")
    command = a.get("Command")
    return {
        "name": block.title,
        "command": command,
        "args": command_words(command) if command else [],
        "interval": _int(a.get("Interval")),
        "timeout": _int(a.get("Timeout")),
        "weight": _int(weight),
        "weight_reverse": bool(weight and weight.endswith(" reverse")),
        "rise": _int(a.get("Rise")),
        "fall": _int(a.get("Fall")),
        "insecure": _bool(a.get("Insecure")),
        "uid_gid": a.get("Script uid:gid"),
        "tracking": _tracked(block.lists.get("Tracking instances", [])),
        "result": _int(a.get("Result")),
        "status": a.get("Status"),
        "init_state": a.get("Init state"),
        "state": a.get("State"),
        "raw": a,
    }


def _track_file(block: _Block) -> dict[str, Any]:
    """One ` Track file = NAME` (dump_track_file): name, path (`   File = /x`), weight,
    weight_reverse (`   Weight = 1 reverse`), status, tracking (as a script's)."""
    a = block.attrs
    weight = a.get("Weight")
    return {"name": block.title, "path": a.get("File"), "weight": _int(weight),
            "weight_reverse": bool(weight and weight.endswith(" reverse")), "status": _int(a.get("Status")),
            "tracking": _tracked(block.lists.get("Tracking instances", [])), "raw": a}


def _interface(block: _Block) -> dict[str, Any]:
    """One ` Name = eth0` of `------< Interfaces >------`: name, ipv4 (`   IPv4 address =
    192.0.2.1`), state, tracking (the instances tracking it, with their weights)."""
    a = block.attrs
    return {"name": block.title, "ipv4": a.get("IPv4 address"), "state": a.get("State"),
            "tracking": _tracked(block.lists.get("Tracking VRRP instances", []))}


def parse_vrrp_dump(text: str) -> dict[str, Any]:
    """keepalived 2.2.7's `keepalived.data` (the VRRP process, SIGUSR1; dump_data_vrrp in
    keepalived/vrrp/vrrp_data.c) as plain data. Also reads `keepalived_parent.data`
    (global only). Lines it does not know are ignored. Keys:
    - global: parse_global's dict (`------< Global definitions >------`)
    - instances: [_instance's dict] in config order (`------< VRRP Topology >------`)
    - sync_groups: [_sync_group's dict] (`------< VRRP Sync groups >------`)
    - scripts: [_script's dict] (`------< VRRP Scripts >------`)
    - track_files: [_track_file's dict] (`------< VRRP Track files >------`)
    - static_addresses: [_address_line's dict] (`------< Static Addresses >------`)
    - static_routes, static_rules: the lines of those sections
    - interfaces: [_interface's dict] (`------< Interfaces >------`: what keepalived saw)
    - sections: the names of every section present
    """
    out: dict[str, Any] = {"global": None, "instances": [], "sync_groups": [], "scripts": [], "track_files": [],
                           "static_addresses": [], "static_routes": [], "static_rules": [], "interfaces": [],
                           "sections": []}
    for name, lines in _sections(text):
        out["sections"].append(name)
        if name == "Global definitions":
            out["global"] = parse_global(lines)
        elif name == "VRRP Topology":
            out["instances"] += [_instance(b) for b in _blocks(lines, _starting("VRRP Instance = "))]
        elif name == "VRRP Sync groups":
            out["sync_groups"] += [_sync_group(b) for b in _blocks(lines, _starting("VRRP Sync Group = "))]
        elif name == "VRRP Scripts":
            out["scripts"] += [_script(b) for b in _blocks(lines, _starting("VRRP Script = "))]
        elif name == "VRRP Track files":
            out["track_files"] += [_track_file(b) for b in _blocks(lines, _starting("Track file = "))]
        elif name == "Static Addresses":
            out["static_addresses"] += [_address_line(line) for _, line in lines]
        elif name == "Static Routes":
            out["static_routes"] += [line for _, line in lines]
        elif name == "Static Rules":
            out["static_rules"] += [line for _, line in lines]
        elif name == "Interfaces":
            out["interfaces"] += [_interface(b) for b in _blocks(lines, _starting("Name = "))]
    return out


# ---------------------------------------------------------------- the checker process's dump

VS_ADDRESS = re.compile(r"^VS VIP = (?P<address>\S+), VPORT = (?P<port>\d+)$")
RS_ADDRESS = re.compile(r"^RIP = (?P<address>\S+), RPORT = (?P<port>\d+), "
                        r"WEIGHT = (?P<weight>-?\d+) EFF WEIGHT = (?P<eff>-?\d+)$")
CHECKER_START = re.compile(r"^(?P<vs>\S+(?: \d+)?) -> (?P<rs>\[\S+\]:\S+:\d+)$")


def _trio(address: str, protocol: str | None, port: int) -> str:
    """keepalived's `[address]:proto:port` (inet_sockaddrtotrio), the key its checkers use."""
    return f"[{address}]:{(protocol or 'none').lower()}:{port}"


def _forwarding(value: str | None) -> str | None:
    """`DR`, `NAT`, `TUN, type = IPIP`... -> `DR`, `NAT`, `TUN`."""
    if value is None:
        return None
    return value.split(",")[0].strip()


class _VsParser:
    """`------< LVS Topology >------`: virtual server groups, virtual servers, their real
    servers — one state machine, as the objects nest by header lines, not by indent."""

    def __init__(self) -> None:
        self.groups: list[dict[str, Any]] = []
        self.servers: list[dict[str, Any]] = []
        self.lvs_version: str | None = None
        self._target: dict[str, Any] | None = None  # the VS or RS that 3-space lines describe
        self._sub: str | None = None  # a 5-space-indent list under the target

    def feed(self, indent: int, line: str) -> None:
        m = SECTION.match(line)
        if m:
            kind = m.group(1)
            if kind == "Virtual server group":
                self._target = None
                self.groups.append({"name": None, "ipv4": None, "ipv6": None, "entries": []})
            elif kind == "Virtual server":
                vs: dict[str, Any] = {"title": None, "attrs": {}, "notes": [], "sorry": {}, "real_servers": []}
                self.servers.append(vs)
                self._target = vs
            elif kind == "Real server" and self.servers:
                rs: dict[str, Any] = {"title": None, "attrs": {}, "notes": [], "lists": {}}
                self.servers[-1]["real_servers"].append(rs)
                self._target = rs
            self._sub = None
            return
        if line.startswith("System is compiled with LVS v"):
            self.lvs_version = line.rsplit("v", 1)[1]
            return
        if self.groups and self._target is None:
            self._group_line(indent, line)
            return
        target = self._target
        if target is None:
            return
        if target["title"] is None:
            target["title"] = line
            return
        if indent >= 5:
            if "sorry" in target and self._sub == "sorry":
                kv = _key_value(line)
                if kv:
                    target["sorry"][kv[0]] = kv[1]
            elif "lists" in target:
                kv = _key_value(line)
                if kv and kv[0].startswith("RS ") and kv[0].endswith(" notify script"):
                    target["attrs"][kv[0]] = kv[1]
                elif self._sub is not None:
                    target["lists"][self._sub].append(line)
            return
        self._sub = None
        if "lists" in target and line in ("Tracked Files", "Tracked BFDs"):
            self._sub = line
            target["lists"][line] = []
            return
        kv = _key_value(line)
        if kv:
            if kv[0].startswith("sorry server"):
                target["sorry"]["server"] = kv[1]
                target["sorry"]["duplicates_rs"] = "(duplicates rs)" in kv[0]
                self._sub = "sorry"
            else:
                target["attrs"].setdefault(kv[0], kv[1])
        else:
            target["notes"].append(line)

    def _group_line(self, indent: int, line: str) -> None:
        group = self.groups[-1]
        m = re.match(r"^Virtual Server Group = (.+), IPv4 = (\w+), IPv6 = (\w+)$", line)
        if m:
            group.update(name=m.group(1), ipv4=m.group(2) == "yes", ipv6=m.group(3) == "yes")
            return
        m = re.match(r"^VIP Range = (\S+)-(\S+), VPORT = (\d+)$", line)
        if m:
            group["entries"].append({"kind": "range", "start": m.group(1), "end": m.group(2), "port": int(m.group(3))})
            return
        m = re.match(r"^VIP = (\S+), VPORT = (\d+)$", line)
        if m:
            group["entries"].append({"kind": "address", "address": m.group(1), "port": int(m.group(2))})
            return
        m = re.match(r"^FWMARK = (\d+)(?: (IPv4|IPv6))?$", line)
        if m:
            group["entries"].append({"kind": "fwmark", "fwmark": int(m.group(1)), "family": m.group(2)})


def _virtual_server(vs: dict[str, Any]) -> dict[str, Any]:
    """One ` ------< Virtual server >------` (dump_vs, keepalived/check/check_data.c). Keys:
    - kind: `address` (` VS VIP = 192.168.56.131, VPORT = 80`), `fwmark` (` VS FWMARK = 1`)
      or `group` (` VS GROUP = [grp]:0`); address, port, fwmark, group accordingly
    - key: what the checkers' lines call it (`[192.168.56.131]:tcp:80`, `FWM 1`, `[grp]:0`)
    - protocol: `   protocol = TCP` (TCP, UDP, SCTP, none)
    - family: `   Address family = inet`
    - lb_algo: `   lvs_sched = wrr`
    - lb_kind: `   default forwarding method = DR` (NAT, DR, TUN); lb_kind_detail: the whole value
    - persistence_timeout: `   persistence timeout = 50` (0 when absent: no persistence)
    - persistence_granularity: `   persistence granularity = 255.255.255.0` (None when unset)
    - delay_loop, connect_timeout: `   delay_loop = 3.000000`, `   connection timeout = 5.000000` (s)
    - retry, delay_before_retry, warmup: `   Retry count = 3`, `   Retry delay = 1.000000`,
      `   Warmup = 0.000000` (None when the VS does not set them)
    - alpha, omega, inhibit_on_failure: `   alpha is OFF`, `   Inhibit on failure is OFF`
    - quorum, hysteresis: `   quorum = 1, hysteresis = 0`
    - ha_suspend: `   Using HA suspend`; one_packet: `   One packet scheduling = disabled`
    - hashed: `   Hashed = disabled`; virtualhost: `   VirtualHost = x`
    - quorum_up, quorum_down: `   Quorum up notify script = 'x', uid:gid 0:0` (the command)
    - sorry_server: {server (`[ip]:tcp:port`), forwarding, duplicates_rs, inhibit_on_failure}
      from `   sorry server = [192.168.56.20]:tcp:80`, or None
    - smtp_alert: `   Using smtp notification = no`
    - real_servers: [_real_server's dict]
    - raw: every `key = value` line; notes: the others
    """
    title = vs["title"] or ""
    a = vs["attrs"]
    out: dict[str, Any] = {"kind": None, "address": None, "port": None, "fwmark": None, "group": None}
    protocol = a.get("protocol")
    m = VS_ADDRESS.match(title)
    if m:
        out.update(kind="address", address=m.group("address"), port=int(m.group("port")))
        out["key"] = _trio(m.group("address"), protocol, int(m.group("port")))
    elif title.startswith("VS FWMARK = "):
        out.update(kind="fwmark", fwmark=_int(title.split(" = ", 1)[1]))
        out["key"] = f"FWM {out['fwmark']}"
    elif title.startswith("VS GROUP = "):
        key = title.split(" = ", 1)[1]
        gm = re.match(r"^\[(.*)\]:(\d+)$", key)
        out.update(kind="group", group=gm.group(1) if gm else key, port=int(gm.group(2)) if gm else None)
        out["key"] = key
    else:
        out["key"] = title
    sorry = None
    if vs["sorry"]:
        s = vs["sorry"]
        sorry = {"server": s.get("server"), "forwarding": _forwarding(s.get("forwarding method")),
                 "duplicates_rs": s.get("duplicates_rs", False), "inhibit_on_failure": _bool(s.get("Inhibit on failure"))}
    quorum = a.get("quorum")
    hysteresis = None
    if quorum and ", hysteresis = " in quorum:
        quorum, hysteresis = quorum.split(", hysteresis = ", 1)
    one_packet = a.get("One packet scheduling")
    out.update({
        "protocol": protocol,
        "family": a.get("Address family"),
        "lb_algo": a.get("lvs_sched"),
        # a TUN virtual server's line is "forwarding method = TUN, type = ..." (dump_forwarding_method)
        "lb_kind": _forwarding(a.get("default forwarding method") or a.get("forwarding method")),
        "lb_kind_detail": a.get("default forwarding method") or a.get("forwarding method"),
        "persistence_timeout": _int(a.get("persistence timeout")) or 0,
        "persistence_granularity": a.get("persistence granularity"),
        "delay_loop": _float(a.get("delay_loop")),
        "connect_timeout": _float(a.get("connection timeout")),
        "retry": _int(a.get("Retry count")),
        "delay_before_retry": _float(a.get("Retry delay")),
        "warmup": _float(a.get("Warmup")),
        "alpha": _bool(a.get("alpha")),
        "omega": _bool(a.get("omega")),
        "inhibit_on_failure": _bool(a.get("Inhibit on failure")),
        "quorum": _int(quorum),
        "hysteresis": _int(hysteresis),
        "ha_suspend": "Using HA suspend" in vs["notes"],
        "one_packet": None if one_packet is None else one_packet.startswith("enabled"),
        "hashed": _bool(a.get("Hashed")),
        "virtualhost": a.get("VirtualHost"),
        "quorum_up": (a.get("Quorum up notify script") or "").rsplit(", uid:gid ", 1)[0] or None,
        "quorum_down": (a.get("Quorum down notify script") or "").rsplit(", uid:gid ", 1)[0] or None,
        "sorry_server": sorry,
        "smtp_alert": _bool(a.get("Using smtp notification")),
        "real_servers": [_real_server(rs, protocol) for rs in vs["real_servers"]],
        "raw": a,
        "notes": vs["notes"],
    })
    return out


def _real_server(rs: dict[str, Any], protocol: str | None) -> dict[str, Any]:
    """One `   ------< Real server >------` (dump_rs). Keys:
    - address, port: `   RIP = 192.168.56.11, RPORT = 80, WEIGHT = 2 EFF WEIGHT = 2`
    - key: `[192.168.56.11]:tcp:80`, as the checkers' lines name it
    - weight: `   initial weight = 2` — the configured weight (default 1)
    - effective_weight: `   effective weight = 2` (at dump time: checkers' weights applied);
      dumped_weight: the `WEIGHT =` of the RIP line (the effective weight clamped for IPVS)
    - forwarding: `   forwarding method = DR` (the real server's own lb_kind, else the VS's)
    - alpha, inhibit_on_failure: `   Alpha is OFF`, `   Inhibit on failure is OFF`
    - connect_timeout, delay_loop: `   connection timeout = 5.000000`, `   Delay loop = 3.000000` (s)
    - retry, delay_before_retry, warmup: `   Retry count = 3` ... (None when not set here)
    - lower_threshold, upper_threshold: `   connection limit range = 0 -> 0`
    - notify_up, notify_down: `     RS up notify script = '/x', uid:gid 0:0` (the command)
    - virtualhost: `    VirtualHost = 'x'`
    - track_files: under `   Tracked Files`, `     name, weight 1`
    - checkers: [_checker's dict] of this real server (from the Health checkers section)
    """
    title = rs["title"] or ""
    a = rs["attrs"]
    m = RS_ADDRESS.match(title)
    address = m.group("address") if m else None
    port = int(m.group("port")) if m else None
    limits = a.get("connection limit range", "")
    lm = re.match(r"^(\d+) -> (\d+)$", limits)
    virtualhost = a.get("VirtualHost")
    return {
        "address": address,
        "port": port,
        "key": _trio(address, protocol, port) if m and address is not None and port is not None else title,
        "weight": _int(a.get("initial weight")),
        "effective_weight": _int(a.get("effective weight")),
        "dumped_weight": int(m.group("weight")) if m else None,
        "forwarding": _forwarding(a.get("forwarding method")),
        "forwarding_detail": a.get("forwarding method"),
        "alpha": _bool(a.get("Alpha")),
        "inhibit_on_failure": _bool(a.get("Inhibit on failure")),
        "connect_timeout": _float(a.get("connection timeout")),
        "delay_loop": _float(a.get("Delay loop")),
        "retry": _int(a.get("Retry count")),
        "delay_before_retry": _float(a.get("Retry delay")),
        "warmup": _float(a.get("Warmup")),
        "lower_threshold": int(lm.group(1)) if lm else None,
        "upper_threshold": int(lm.group(2)) if lm else None,
        "notify_up": (a.get("RS up notify script") or "").rsplit(", uid:gid ", 1)[0] or None,
        "notify_down": (a.get("RS down notify script") or "").rsplit(", uid:gid ", 1)[0] or None,
        "virtualhost": virtualhost.strip("'") if virtualhost else None,
        "track_files": _tracked(rs["lists"].get("Tracked Files", [])),
        "checkers": [],
        "raw": a,
    }


def _checkers(lines: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """`------< Health checkers >------` (dump_checker, keepalived/check/check_api.c, and
    each checker's dump_func). Keys of each:
    - vs, rs: ` [192.168.56.131]:tcp:80 -> [192.168.56.11]:tcp:80` (the VS's and RS's keys)
    - type: `   Keepalive method = TCP_CHECK` (TCP_CHECK, HTTP_GET, SSL_GET, MISC_CHECK,
      SMTP_CHECK, DNS_CHECK, UDP_CHECK, PING_CHECK, FILE_CHECK, BFD_CHECK)
    - enabled, up, has_run, current_weight: `   Enabled = yes`, `   Current weight = 0`
    - alpha: `   Alpha = no`; log_all_failures: `   Log all failures = no`
    - delay_loop, warmup: `   Delay loop = 3000000 us` (s)
    - retry: `   Retries = 3`
    - delay_before_retry: `   Delay before retry = 1000000 us` (s; dumped only when retry > 0)
    - default_delay_before_retry: `   Default delay before retry = 1000000 us` (s)
    - connect_timeout: `     Timeout = 2.000000` under `   Connection` (s)
    - dest, bind_to, bind_if, fwmark: `     Dest = [192.168.56.11]:80`, `     Bind to = ...`
    - http_protocol: `   Keepalive method = HTTP_GET, http protocol 1.0`
    - urls: [{path, digest, status_codes, virtualhost, regex}] from `   Checked url = /`,
      `     digest = ...`, `       200-299` under `     HTTP Status Code(s)`
    - virtualhost: `   Virtualhost = x`; enable_sni, fast_recovery: `   Fast recovery unset`
    - script, args, script_timeout, dynamic, uid_gid: MISC_CHECK's `   script = '/x' 'y'`,
      `   timeout = 5`, `   dynamic = NO`
    - helo (SMTP_CHECK), dns_type, dns_name (DNS_CHECK), tracked_file (FILE_CHECK)
    - raw: the checker's own `key = value` lines; connection: those under `   Connection`
    """
    raw_checkers: list[dict[str, Any]] = []
    for indent, line in lines:
        m = CHECKER_START.match(line) if indent == 1 else None
        if m:
            raw_checkers.append({"vs": m.group("vs"), "rs": m.group("rs"), "attrs": {}, "conn": {}, "urls": [],
                                 "notes": [], "sub": None})
            continue
        if not raw_checkers:
            continue
        c = raw_checkers[-1]
        kv = _key_value(line)
        if indent <= 3:
            c["sub"] = None
            if line == "Connection":
                c["sub"] = "conn"
            elif kv and kv[0] == "Checked url":
                c["urls"].append({"path": kv[1], "status_codes": [], "attrs": {}})
                c["sub"] = "url"
            elif kv:
                c["attrs"].setdefault(kv[0], kv[1])
            else:
                c["notes"].append(line)
        elif c["sub"] == "conn" and kv:
            c["conn"][kv[0]] = kv[1]
        elif c["sub"] == "url" and c["urls"]:
            url = c["urls"][-1]
            if indent >= 7:
                url["status_codes"].append(line)
            elif kv:
                url["attrs"][kv[0]] = kv[1]
        elif kv:
            c["attrs"].setdefault(kv[0], kv[1])
    out = []
    for c in raw_checkers:
        a = c["attrs"]
        conn = c["conn"]
        method = a.get("Keepalive method") or ""
        ctype, _, rest = method.partition(", ")
        script = a.get("script")
        out.append({
            "vs": c["vs"],
            "rs": c["rs"],
            "type": ctype or None,
            "enabled": _bool(a.get("Enabled")),
            "up": _bool(a.get("Up")),
            "has_run": _bool(a.get("Has run")),
            "current_weight": _int(a.get("Current weight")),
            "alpha": _bool(a.get("Alpha")),
            "log_all_failures": _bool(a.get("Log all failures")),
            "delay_loop": _usecs(a.get("Delay loop")),
            "warmup": _usecs(a.get("Warmup")),
            "retry": _int(a.get("Retries")),
            "delay_before_retry": _usecs(a.get("Delay before retry")),
            "default_delay_before_retry": _usecs(a.get("Default delay before retry")),
            "connect_timeout": _float(conn.get("Timeout")),
            "dest": conn.get("Dest"),
            "bind_to": conn.get("Bind to"),
            "bind_if": conn.get("Bind i/f"),
            "fwmark": _int(conn.get("Mark")),
            "http_protocol": rest.replace("http protocol ", "") if rest.startswith("http protocol ") else None,
            "urls": [{"path": u["path"], "digest": u["attrs"].get("digest"), "status_codes": u["status_codes"],
                      "virtualhost": u["attrs"].get("Virtual host"), "regex": u["attrs"].get("Regex")}
                     for u in c["urls"]],
            "virtualhost": a.get("Virtualhost"),
            "enable_sni": next((n.endswith(" set") for n in c["notes"] if n.startswith("Enable SNI ")), None),
            "fast_recovery": next((n.endswith(" set") for n in c["notes"] if n.startswith("Fast recovery ")), None),
            "script": script,
            "args": command_words(script) if script else None,
            "script_timeout": _int(a.get("timeout")),
            "dynamic": _bool(a.get("dynamic")),
            "uid_gid": a.get("uid:gid"),
            "helo": a.get("helo"),
            "dns_type": a.get("Type"),
            "dns_name": a.get("Name"),
            "tracked_file": a.get("Tracked file"),
            "raw": a,
            "connection": conn,
        })
    return out


def parse_check_dump(text: str) -> dict[str, Any]:
    """keepalived 2.2.7's `keepalived_check.data` (the checker process, SIGUSR1;
    dump_data_check in keepalived/check/check_data.c) as plain data. Lines it does not
    know are ignored. Keys:
    - global: parse_global's dict
    - lvs_version: ` System is compiled with LVS v1.2.1`
    - virtual_server_groups: [{name, ipv4, ipv6, entries}] from ` Virtual Server Group =
      grp, IPv4 = yes, IPv6 = no` and its `   VIP = 10.0.0.1, VPORT = 80`, `   VIP Range =
      10.0.0.1-10.0.0.4, VPORT = 80`, `   FWMARK = 7 IPv4` lines -> entries {kind: address |
      range | fwmark, ...}
    - virtual_servers: [_virtual_server's dict], each real server with its checkers
    - checkers: every checker (_checkers), also those no real server matched
    - track_files: [_track_file's dict] (`------< Checker track files >------`)
    - ssl: the `key : value` lines of `------< SSL definitions >------`
    - sections: the names of every section present
    """
    out: dict[str, Any] = {"global": None, "lvs_version": None, "virtual_server_groups": [], "virtual_servers": [],
                           "checkers": [], "track_files": [], "ssl": {}, "sections": []}
    for name, lines in _sections(text):
        out["sections"].append(name)
        if name == "Global definitions":
            out["global"] = parse_global(lines)
        elif name == "LVS Topology":
            parser = _VsParser()
            for indent, line in lines:
                parser.feed(indent, line)
            out["lvs_version"] = parser.lvs_version
            out["virtual_server_groups"] += parser.groups
            out["virtual_servers"] += [_virtual_server(vs) for vs in parser.servers]
        elif name == "Health checkers":
            out["checkers"] += _checkers(lines)
        elif name == "Checker track files":
            out["track_files"] += [_track_file(b) for b in _blocks(lines, _starting("Track file = "))]
        elif name == "SSL definitions":
            for _, line in lines:
                kv = _key_value(line)
                if kv:
                    out["ssl"][kv[0]] = kv[1]
    servers = {(vs["key"], rs["key"]): rs for vs in out["virtual_servers"] for rs in vs["real_servers"]}
    for checker in out["checkers"]:
        rs = servers.get((checker["vs"], checker["rs"]))
        if rs is not None:
            rs["checkers"].append(checker)
    return out


# ---------------------------------------------------------------- running keepalived

DEFAULT_INTERFACES = ("eth0", "eth1", "eth2", "eth3")  # always made: eth0 is keepalived's default interface


def config_interfaces(text: str, folder: Path | None = None, _depth: int = 0) -> list[str]:
    """The interface names a config mentions, for the run's namespace: the word after
    `interface`, `dev`, `default_interface`, `lvs_sync_daemon`, `bind_if`, and the first word
    of each line of a `track_interface` block (a brace starts a line, as keepalived reads
    `track_interface { eth1 weight 5 }`); with `folder` (the config's), also in the files
    its `include` lines name (a plain glob, relative to the including file). A scan, not a
    parse: `$NAME` definitions are not expanded, and run_keepalived_dump makes
    DEFAULT_INTERFACES besides; pass `interfaces` to it to choose them yourself."""
    names: list[str] = []
    if folder is not None and _depth < 10:
        for m in re.finditer(r"^\s*include[a-z]?\s+(\S+)", text, re.MULTILINE):
            pattern = m.group(1) if m.group(1).startswith("/") else str(folder / m.group(1))
            for path in sorted(globmod.glob(pattern)):
                try:
                    names += config_interfaces(Path(path).read_text(errors="replace"), Path(path).parent, _depth + 1)
                except OSError:
                    continue
    depth = 0
    track_depth = None  # the depth inside a track_interface block
    for raw in text.splitlines():
        line = re.split(r"[#!]", raw, maxsplit=1)[0]
        words = line.replace("{", " { ").replace("}", " } ").split()
        if words and words[0].startswith("@"):
            words = words[1:]
        line_start = True
        for i, word in enumerate(words):
            if word == "{":
                depth += 1
                line_start = True
                continue
            if word == "}":
                depth -= 1
                if track_depth is not None and depth < track_depth:
                    track_depth = None
                line_start = True
                continue
            if word == "track_interface":
                track_depth = depth + 1
            elif line_start and track_depth is not None and depth == track_depth:
                names.append(word)
            elif word in ("interface", "dev", "default_interface", "lvs_sync_daemon", "bind_if") and i + 1 < len(words):
                names.append(words[i + 1])
            line_start = False
    seen: list[str] = []
    for name in names:
        if IFNAME.match(name) and name != "lo" and name not in seen and not name.startswith(PEER_PREFIX):
            seen.append(name)
    return seen


def ipvs_loaded() -> bool:
    """IPVS is in this kernel now (loaded or built in). The oracle never loads it: keepalived
    would `modprobe ip_vs` on the host by itself, a change to the host."""
    return Path("/proc/net/ip_vs").exists() or Path("/sys/module/ip_vs").exists()


def _setup_script(interfaces: list[str], argv: list[str]) -> str:
    """The run's namespace, made from inside it (one `ip -batch` each way: every process
    start costs under UML), then keepalived in its place (exec: the pid stays ours)."""
    def batch(kind: str) -> str:
        lines = ["link set lo up"]
        for i, name in enumerate(interfaces):
            if kind == "dummy":
                if i:
                    lines.append(f"link add {name} type dummy")
            else:
                lines += [f"link add {name} type veth peer name {PEER_PREFIX}{i}", f"link set {PEER_PREFIX}{i} up"]
            lines += [f"link set {name} up", f"address add 198.18.{i}.1/24 dev {name}"]
        return "\n".join(lines)
    first = shlex.quote(interfaces[0]) if interfaces else ""
    parts = [f"echo {NODE_NAME} > /proc/sys/kernel/hostname"]
    if interfaces:
        parts.append(f"if ip link add {first} type dummy 2>/dev/null; then\nip -batch - <<'EOF'\n{batch('dummy')}\nEOF\n"
                     f"else\nip -batch - <<'EOF'\n{batch('veth')}\nEOF\nfi || exit {SETUP_FAILED}")
    else:
        parts.append(f"ip link set lo up || exit {SETUP_FAILED}")
    parts.append("exec " + shlex.join(argv))
    return "\n".join(parts) + "\n"


def _open_by(pid: int, path: Path) -> bool:
    """`pid` still has `path` open (a dump being written)."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == str(path):
                return True
        except OSError:
            continue
    return False


class _Log:
    """keepalived's output file, read as it grows (only what is new each time: a config it
    loops on can log hundreds of thousands of lines)."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self.parts: list[str] = []
        self.tail = ""  # the last characters read, so a line cut between two reads is still found

    def poll(self, *needles: str) -> bool:
        """Read what is new; True if any needle is in it."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return False
        if not data:
            return False
        self.offset += len(data)
        text = data.decode(errors="replace")
        self.parts.append(text)
        window = self.tail + text
        self.tail = window[-200:]
        return any(n in window for n in needles)

    def text(self) -> str:
        """The whole log; the middle of a runaway one cut out (LOG_KEEP at each end)."""
        self.poll()
        whole = "".join(self.parts)
        if len(whole) > 2 * LOG_KEEP:
            cut = len(whole) - 2 * LOG_KEEP
            whole = f"{whole[:LOG_KEEP]}\n[... {cut} characters of keepalived's log left out ...]\n{whole[-LOG_KEEP:]}"
        return whole


def _dump_files(folder: Path, name: str) -> list[Path]:
    """`keepalived.data` or, with data_use_instance, `keepalived.<ns>_<instance>.data`."""
    stem, ext = name.rsplit(".", 1)
    return sorted(p for p in folder.iterdir() if p.name == name or re.fullmatch(re.escape(stem) + r"\.[^/]+\." + ext, p.name))


def run_keepalived_dump(config: Path, *, keepalived: str, config_id: str | None = None,
                        interfaces: tuple[str, ...] | None = None, timeout: float = 10.0,
                        checker: bool | None = None) -> tuple[dict[str, Any], str]:
    """Run `keepalived` (the program: lab_keepalived(), the lab's) on `config` in a throwaway
    namespace, make every process dump what it parsed (SIGUSR1 to the parent, which passes
    it on), stop it; return (result, log).

    `interfaces`: the links to make (None: DEFAULT_INTERFACES and those config_interfaces
    finds). `config_id`: keepalived's `-i` (None: the node name,
    `keepalived-oracle`). `checker`: run the checker process (None: when IPVS is loaded;
    without IPVS it would exit at start and take keepalived down). `timeout`: seconds for
    keepalived to read the config and dump it.

    result keys: keepalived (its version, from the log), command (its argv), vrrp
    (parse_vrrp_dump, or None when no VRRP process ran), check
    (parse_check_dump, or None), parent (parse_global of the parent's dump), dumps (each
    dump's text by file name), exit_status (None when keepalived ran until stopped; else it
    stopped by itself: the config refused), checker_skipped (why, or None), processes
    (which children ran), config, config_id, interfaces, seconds (wall time of the call).

    Thread-safe, and safe side by side with other runs: each has its own namespace,
    TMPDIR and pid files. Needs root (namespaces)."""
    if os.geteuid() != 0:
        raise OracleError("running keepalived needs root (network namespaces, its netlink and raw sockets): use sudo")
    began = time.monotonic()
    config = Path(config).resolve()
    text = config.read_text(errors="replace")
    if interfaces is None:
        found = config_interfaces(text, config.parent)
        interfaces = DEFAULT_INTERFACES + tuple(n for n in found if n not in DEFAULT_INTERFACES)
    bad = [n for n in interfaces if not IFNAME.match(n) or n == "lo"]
    if bad:
        raise OracleError(f"not an interface name: {', '.join(bad)}")
    skipped = None
    if checker is None:
        checker = ipvs_loaded()
        if not checker:
            skipped = "this kernel has no IPVS (/proc/net/ip_vs and /sys/module/ip_vs missing): run under User-mode Linux"
    elif not checker:
        skipped = "not asked for"
    base = "/run" if os.environ.get("HALAB_IN_UML") and os.path.isdir("/run") else None
    work = Path(tempfile.mkdtemp(prefix="kaoracle-", dir=base))
    dumps_dir = work / "tmp"
    dumps_dir.mkdir()
    argv = [keepalived, "--dont-fork", "--log-console", "--no-syslog", "--dont-respawn", "-f", str(config),
            "-p", str(work / "keepalived.pid"), "-r", str(work / "vrrp.pid"), "-c", str(work / "checkers.pid"),
            "-b", str(work / "bfd.pid")]
    if not checker:
        argv.append("--vrrp")
    if config_id is not None:
        argv += ["-i", config_id]
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TMPDIR": str(dumps_dir),
           "LANG": "C"}
    log_path = work / "keepalived.log"
    # setpriv: keepalived gets SIGTERM if this thread dies first; unshare: namespaces that
    # vanish with keepalived. Both exec, as does sh: keepalived runs as the pid we start.
    cmd = ["setpriv", "--pdeathsig", "TERM", "unshare", "--net", "--uts", "sh", "-c",
           _setup_script(list(interfaces), argv)]
    log = ""
    reader = _Log(log_path)
    proc: subprocess.Popen[bytes] | None = None
    try:
        with open(log_path, "wb") as log_file:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                                    env=env, start_new_session=True, cwd=str(work))
        deadline = began + timeout
        while not reader.poll(STARTED, NOTHING):
            if proc.poll() is not None:
                break
            if time.monotonic() > deadline:
                raise OracleError(f"keepalived did not finish starting within {timeout} s (still running: "
                                  "stuck on something in the config?)", reader.text())
            time.sleep(0.02)
        exit_status = proc.poll()
        log = reader.text()
        children = {m.group(1): int(m.group(2)) for m in CHILD_LINE.finditer(log)}
        dumps: dict[str, str] = {}
        if exit_status is None:
            os.kill(proc.pid, signal.SIGUSR1)
            wanted = [(PARENT_DUMP, proc.pid)] + [(CHILD_DUMPS[kind], pid) for kind, pid in children.items()]
            for name, pid in wanted:
                while True:
                    files = _dump_files(dumps_dir, name)
                    # written and closed (stdio writes only once its buffer fills, long after the open)
                    if files and all(f.stat().st_size for f in files) and not any(_open_by(pid, f) for f in files):
                        for f in files:
                            dumps[f.name] = f.read_text(errors="replace")
                        break
                    if proc.poll() is not None:
                        break
                    if time.monotonic() > deadline:
                        raise OracleError(f"keepalived did not write {name} within {timeout} s", reader.text())
                    time.sleep(0.02)
            exit_status = proc.poll()  # None: still running, as it should until we stop it
    finally:
        if proc is not None:
            _stop(proc)
            log = reader.text()
        _remove(work)
    if exit_status == SETUP_FAILED:
        raise OracleError("could not make the run's namespace and interfaces", log)
    vrrp_text = next((t for n, t in dumps.items() if n == VRRP_DUMP or _dump_files_match(n, VRRP_DUMP)), None)
    check_text = next((t for n, t in dumps.items() if n == CHECK_DUMP or _dump_files_match(n, CHECK_DUMP)), None)
    parent_text = next((t for n, t in dumps.items() if n == PARENT_DUMP or _dump_files_match(n, PARENT_DUMP)), None)
    parent = parse_vrrp_dump(parent_text)["global"] if parent_text else None
    version = re.search(r"Starting Keepalived (v\S+)", log)
    result = {
        "keepalived": version.group(1) if version else None,
        "command": argv,
        "config": str(config),
        "config_id": config_id,
        "interfaces": list(interfaces),
        "exit_status": exit_status,
        "processes": sorted(children),
        "checker_skipped": skipped,
        "vrrp": parse_vrrp_dump(vrrp_text) if vrrp_text is not None else None,
        "check": parse_check_dump(check_text) if check_text is not None else None,
        "parent": parent,
        "dumps": dumps,
        "seconds": round(time.monotonic() - began, 3),
    }
    return result, log


def _dump_files_match(name: str, wanted: str) -> bool:
    stem, ext = wanted.rsplit(".", 1)
    return re.fullmatch(re.escape(stem) + r"\.[^/]+\." + ext, name) is not None


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the keepalived we started (it stops its children and exits; the VRRP
    process lingers 1 s by design), then SIGKILL to its process group (ours:
    start_new_session) if it is still there."""
    if proc.poll() is None:
        try:
            os.kill(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=STOP_WAIT)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _remove(folder: Path) -> None:
    """The run's own folder (dumps, pid files, log), nothing else."""
    for root, dirs, files in os.walk(folder, topdown=False):
        for name in files:
            try:
                os.unlink(os.path.join(root, name))
            except OSError:
                pass
        for name in dirs:
            try:
                os.rmdir(os.path.join(root, name))
            except OSError:
                pass
    try:
        os.rmdir(folder)
    except OSError:
        pass


# ---------------------------------------------------------------- many configs, one kernel

def _output_names(configs: list[Path], ids: list[str | None]) -> list[tuple[Path, str | None, str]]:
    """(config, config id, JSON file name): `<stem>.json`, `<stem>.<id>.json` with an id,
    a `-N` suffix where two configs share a stem."""
    out = []
    used: set[str] = set()
    for config in configs:
        for cid in ids:
            base = config.stem + (f".{cid}" if cid is not None else "")
            name, n = base, 1
            while name in used:
                n += 1
                name = f"{base}-{n}"
            used.add(name)
            out.append((config, cid, name + ".json"))
    return out


def run_batch(configs: list[Path], out: Path, ids: list[str | None], timeout: float, jobs: int,
              checker: bool | None, keepalived: str) -> int:
    """Every config (with every id) through run_keepalived_dump, `jobs` at a time, one JSON
    file each in `out` ({config, config_id, result, log} or {..., error, log}); 0 if all
    gave an answer."""
    out.mkdir(parents=True, exist_ok=True)
    plan = _output_names(configs, ids)
    failures = 0

    def one(item: tuple[Path, str | None, str]) -> bool:
        config, cid, name = item
        record: dict[str, Any] = {"config": str(config), "config_id": cid}
        try:
            result, log = run_keepalived_dump(config, keepalived=keepalived, config_id=cid, timeout=timeout,
                                              checker=checker)
            record.update(result=result, log=log)
            ok = True
        except (OracleError, OSError) as e:
            record.update(error=str(e), log=getattr(e, "log", ""))
            ok = False
        (out / name).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        status = "ok" if ok else f"error: {record['error']}"
        print(f"{name}: {status}", flush=True)
        return ok

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for ok in pool.map(one, plan):
            failures += not ok
    return 1 if failures else 0


CHECKOUT = Path(__file__).resolve().parents[2]  # the folder holding labs/


def lab_keepalived() -> str:
    """The keepalived program the lab runs, as its daemon class names it (the one place):
    the oracle must ask the same program. Imported only when needed, outside User-mode
    Linux: inside it this file runs alone (standard library only) and is told, --keepalived."""
    sys.path.insert(0, str(CHECKOUT))
    from labs.daemons.keepalived import Keepalived  # standalone script: outside User-mode Linux only (jinja2 too)

    return Keepalived.binary


def main(argv: list[str] | None = None) -> int:
    """`python -m labs.kaconfig.oracle --out DIR CONFIG...`: one JSON per config. Natively
    when IPVS is loaded (or with --kernel native: then without the checker); otherwise in
    one User-mode Linux boot for the whole batch, which needs no root on the host (UML's
    init is root inside)."""
    parser = argparse.ArgumentParser(prog="python -m labs.kaconfig.oracle", description=__doc__.split("\n\n")[0])
    parser.add_argument("configs", nargs="+", type=Path, metavar="CONFIG")
    parser.add_argument("--out", type=Path, required=True, help="folder for one JSON file per config")
    parser.add_argument("--config-id", action="append", dest="ids", metavar="ID",
                        help=f"keepalived's -i (repeat: each config runs once per id); without it keepalived "
                             f"takes the node name, {NODE_NAME}")
    parser.add_argument("--kernel", choices=("auto", "native", "uml"), default="auto",
                        help="auto: native if IPVS is loaded, else User-mode Linux")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per config (default 10, 60 under UML)")
    parser.add_argument("--jobs", type=int, default=4, help="configs run side by side (default 4)")
    parser.add_argument("--no-checker", action="store_true", help="never run the checker process")
    parser.add_argument("--keepalived", metavar="PATH", help="the keepalived to run (default: the lab's)")
    args = parser.parse_args(argv)
    keepalived = args.keepalived or lab_keepalived()
    configs = [c.resolve() for c in args.configs]
    missing = [str(c) for c in configs if not c.is_file()]
    if missing:
        print(f"no such config: {', '.join(missing)}", file=sys.stderr)
        return 2
    ids: list[str | None] = list(args.ids) if args.ids else [None]
    out = args.out.resolve()
    inside = bool(os.environ.get("HALAB_IN_UML"))
    checker = False if args.no_checker else None
    if inside or args.kernel == "native" or (args.kernel == "auto" and (ipvs_loaded() or args.no_checker)):
        if os.geteuid() != 0:
            print("the oracle needs root natively (use sudo, or --kernel uml)", file=sys.stderr)
            return 2
        return run_batch(configs, out, ids, args.timeout or (60.0 if inside else 10.0), args.jobs, checker, keepalived)
    sys.path.insert(0, str(CHECKOUT))
    from labs.kernel import uml  # standalone script: on the host only, to boot User-mode Linux

    problem = uml.problem() or uml.results_problem(out)
    if problem:
        print(f"User-mode Linux cannot run: {problem}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    inner = [sys.executable, "-P", str(Path(__file__).resolve()), "--out", str(out), "--kernel", "native",
             "--jobs", str(args.jobs), "--timeout", str(args.timeout or 60.0), "--keepalived", keepalived]
    for cid in args.ids or []:
        inner += ["--config-id", cid]
    if args.no_checker:
        inner.append("--no-checker")
    inner += [str(c) for c in configs]
    return uml.run(inner, uml.host_cpu(), boot_log=out / "uml-boot.log")


if __name__ == "__main__":
    sys.exit(main())
