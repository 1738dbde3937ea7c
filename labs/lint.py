"""`python -m labs.lint`: check the keepalived configs of a whole lab together.

    python -m labs.lint topologies/seed_article/*.conf      # files: one per host
    python -m labs.lint dual_master [--variant seed]        # a topology, rendered first (--set, --servers too)
    python -m labs.lint examples/article/article.toml       # a lab file: its configs as written

Each config is read as keepalived reads it (labs.kaconfig). Each finding is one line:
what is wrong, where (file and line where there is one), and the fix. Checks: a VRID used
by two different VRRP groups on one segment, one VIP held by two VRRP groups (two
masters), duplicate router_ids, two MASTERs or none per group, a track weight that can
never move the VIP given the priorities, keywords keepalived does not know, what
keepalived would report reading the config (values it rejects, tracked scripts it cannot
find, ...) and what `keepalived -t` itself rejects, DR real servers without
arp_ignore/arp_announce (read from a `sysctl.conf` beside each host's config), VIPs that
are also host addresses.

Exit status: 0 clean, 1 findings, 2 input that cannot be read (a missing file, a config
keepalived could not read at all: one line naming file and line).

With --json: one JSON document on stdout instead of the lines (schema_version, `findings`
as objects with check, host, file, line, lines, message and fix, `notes`, `configs` (how
many were read) and `exit`, the same exit status), also for input that cannot be read.
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import topologies
from labs import daemons, kaconfig
from labs.daemons import keepalived
from labs.common.command import Parser, describe, entry_json, lab_arguments, lab_of
from labs.common.errors import LabError
from labs.spec import LabSpec
from labs.lab.paths import RunPaths
from labs.spec.sysctls import DR_ARP, RECORD
from labs.spec.sysctls import of_host as sysctls_of_host
from labs.spec.sysctls import read as read_sysctls


@dataclass(frozen=True)
class Finding:
    """One thing wrong with the lab's configs, as data (`--json`: a script or an editor
    needs the host, file and line without parsing the sentence) and as the one line the
    text output has always printed, built from the same fields so the two cannot drift."""

    check: str
    message: str  # what is wrong, without where it is or the fix
    fix: str = ""  # what to do ("" where the message is all a finding says)
    host: str | None = None  # the one host it is about (None: a group, or several hosts)
    file: str | None = None
    lines: tuple[int, ...] = ()  # every line of `file` it is on (an unknown keyword: each use)
    joint: str = ": "  # between message and fix in the line: each check's sentence reads its own way
    inset: int | None = None  # where in the message the line puts " (file:line)"; None: before it

    @property
    def line(self) -> int | None:
        """The first line it is on, the one an editor jumps to."""
        return self.lines[0] if self.lines else None

    def where(self) -> str:
        """file:line[,line...] as the line names it ("" with no file)."""
        if not self.file:
            return ""
        return f"{self.file}:{','.join(map(str, self.lines))}" if self.lines else self.file

    def as_json(self) -> dict[str, object]:
        """The fields a `--json` reader gets (the text layout, joint and inset, left out)."""
        return {"check": self.check, "host": self.host, "file": self.file, "line": self.line,
                "lines": list(self.lines), "message": self.message, "fix": self.fix}

    def __str__(self) -> str:
        where, body = self.where(), self.message
        if where and self.inset is not None:
            body = f"{body[:self.inset]} ({where}){body[self.inset:]}"
        elif where:
            body = f"{where}: {body}"
        return f"{self.check}: {body}{self.joint}{self.fix}" if self.fix else f"{self.check}: {body}"


def _at(where: kaconfig.Where | None) -> dict[str, Any]:
    """A Finding's file and lines from the reader's Where (none when it has none)."""
    return {"file": where.file, "lines": (where.line,)} if where else {}


@dataclass
class ConfigHost:
    """One host's keepalived config as the linter reads it (not a running lab host)."""

    name: str
    path: Path
    config: kaconfig.Config
    sysctl: dict[str, str] | None = None
    address: str | None = None
    config_id: str | None = None


@dataclass(frozen=True)
class Member:
    host: str
    instance: str
    interface: str
    vrid: int
    vips: frozenset[str]
    state: str
    priority: int
    tracks: tuple[kaconfig.Track, ...]
    preempt_delay: float = 0.0
    where: kaconfig.Where | None = None


@dataclass
class ConfigSet:
    """The configs of a whole lab, linted together (VRIDs and router_ids span hosts)."""

    hosts: dict[str, ConfigHost] = field(default_factory=dict)

    def members(self) -> list[Member]:
        return [Member(h.name, i.name, i.interface or "?", i.vrid or 0, frozenset(i.vips), i.state, i.priority,
                       (*i.track_scripts, *i.track_interfaces, *i.track_files), i.preempt_delay, i.where)
                for h in self.hosts.values() for i in h.config.instances]


def load_files(paths: list[Path], addresses: dict[str, str], config_ids: dict[str, str] | None = None,
               names: list[str] | None = None, sysctls: dict[str, dict[str, str]] | None = None) -> ConfigSet:
    """Each config read as keepalived reads it (its includes followed, so a finding names
    the file and line it is in); one that cannot be read at all (no file, a brace that
    never closes, a value missing) is one LabError naming file and line. A host is named
    by `names` or after its file; its sysctls are `sysctls`' or read from a file beside it."""
    lab = ConfigSet()
    for n, path in enumerate(paths):
        name = names[n] if names else path.parent.name if path.name == "keepalived.conf" else path.stem
        config_id = (config_ids or {}).get(name, name)  # keepalived's default: the node name, here the host's
        config = kaconfig.read_checked(path, config_id)
        if not any(c.keyword in ("vrrp_instance", "virtual_server", "global_defs", "vrrp_script", "vrrp_sync_group",
                                 "virtual_server_group") for c in config.tree.children):
            raise LabError(f"{path} is not a keepalived config (no global_defs, vrrp_instance or virtual_server)")
        sysctl_file = path.with_name(RECORD) if path.name == "keepalived.conf" else path.with_suffix(".sysctl")
        sysctl = (sysctls or {}).get(name)
        if sysctl is None and sysctls is None and sysctl_file.exists():
            sysctl = read_sysctls(sysctl_file.read_text())
        lab.hosts[name] = ConfigHost(name, path, config, sysctl, addresses.get(name), config_id)
    return lab


def check(lab: ConfigSet) -> list[Finding]:
    members = lab.members()
    found: list[Finding] = []
    groups: dict[tuple[str, int, frozenset[str]], list[Member]] = defaultdict(list)
    for m in members:
        groups[(m.interface, m.vrid, m.vips)].append(m)
    by_vrid: dict[tuple[str, int], list[tuple[frozenset[str], list[Member]]]] = defaultdict(list)
    by_vip: dict[str, list[tuple[int, list[Member]]]] = defaultdict(list)
    for (iface, vrid, vips), ms in groups.items():
        by_vrid[(iface, vrid)].append((vips, ms))
        for vip in vips:
            by_vip[vip].append((vrid, ms))
    for (iface, vrid), gs in sorted(by_vrid.items()):
        if len(gs) > 1:
            desc = "; ".join(f"{','.join(sorted(v))} on {','.join(sorted(m.host for m in ms))}" for v, ms in gs)
            found.append(Finding("vrid-reused", f"VRID {vrid} on {iface} is used by {len(gs)} different VRRP groups ({desc})",
                                 "give each group its own virtual_router_id (1-255) on a shared segment"))
    for vip, gs in sorted(by_vip.items()):
        if len({vrid for vrid, _ in gs}) > 1:
            desc = "; ".join(f"VRID {vrid} on {','.join(sorted(m.host for m in ms))}" for vrid, ms in gs)
            found.append(Finding("two-masters", f"VIP {vip} is held by {len(gs)} VRRP groups ({desc}): each elects its "
                                 "own master, so two hosts hold the VIP at once",
                                 "give the hosts that share it one virtual_router_id", joint="; "))
    ids: dict[str, list[str]] = defaultdict(list)
    for h in lab.hosts.values():
        if h.config.global_defs.router_id:
            ids[h.config.global_defs.router_id].append(h.name)
    for rid, hosts in sorted(ids.items()):
        if len(hosts) > 1:
            found.append(Finding("router-id", f"router_id {rid} is used by {', '.join(sorted(hosts))}",
                                 "give every host its own router_id"))
    for (iface, vrid, vips), ms in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], sorted(kv[0][2]))):
        masters = [m for m in ms if m.state == "MASTER"]
        label = f"{ms[0].instance} (VRID {vrid}, {','.join(sorted(vips))})"
        for m in masters:
            if m.preempt_delay:
                on = f"{label} on {m.host}"
                found.append(Finding("preempt-delay-ignored", f"{on}: state MASTER with preempt_delay {m.preempt_delay:g}: "
                                     "keepalived clears preempt_delay on a MASTER",
                                     "give every host of the group state BACKUP (the priorities still choose)",
                                     m.host, joint="; ", inset=len(on), **_at(m.where)))
        if not masters and all(m.preempt_delay for m in ms):
            pass  # every host BACKUP is how preempt_delay works: the priorities say who holds the VIP
        elif not masters:
            best = max(ms, key=lambda m: m.priority)
            found.append(Finding("no-master", f"{label}: no host is configured MASTER", f"set state MASTER on {best.host} "
                                 f"(priority {best.priority}) so the configuration says who should hold the VIP", joint="; "))
        elif len(masters) > 1:
            found.append(Finding("two-masters", f"{label}: {', '.join(m.host for m in masters)} are all configured MASTER",
                                 "keep one MASTER and make the others BACKUP", joint="; "))
        found += _weights(label, ms)
    found += _reader_findings(lab)
    found += _dr_arp(lab, members)
    found += _vip_collisions(lab, members)
    return found


def _weights(label: str, ms: list[Member]) -> list[Finding]:
    """A failing track on the top host must leave it below the best other host: its
    weight as the instance applies it (the track line's own, else the script's). Weight 0
    is no such case (a failure puts the instance in FAULT, which gives the VIP up); a
    `reverse` track is not judged here."""
    if len(ms) < 2:
        return []
    top = max(ms, key=lambda m: m.priority)
    rest = max((m for m in ms if m is not top), key=lambda m: m.priority)
    out = []
    for track in top.tracks:
        if track.weight == 0 or track.reverse:
            continue
        fail_top = top.priority + min(track.weight, 0)
        ok_rest = rest.priority + max(track.weight, 0)
        if fail_top >= ok_rest:
            need = -(top.priority - rest.priority + 1)
            on = f"{label}: track {track.name} weight {track.weight} on {top.host}"
            out.append(Finding("weight-cannot-move", f"{on}: a failed check leaves priority {fail_top} >= {ok_rest} on "
                               f"{rest.host}, so the VIP never moves", f"use weight {need} or lower", top.host,
                               joint="; ", inset=len(on), **_at(track.where)))
    return out


def _reader_findings(lab: ConfigSet) -> list[Finding]:
    """What keepalived says of each config, with file and line: the reader's diagnostics
    (unknown keywords one finding per keyword and file, all its lines named), then what
    `keepalived -t` reports that the reader did not (located by the word it quotes)."""
    out = []
    for h in lab.hosts.values():
        unknown: dict[str, list[kaconfig.Where]] = defaultdict(list)
        for d in h.config.diagnostics.items:
            m = re.match(r"unknown keyword '([^']+)'", d.message)
            if m and d.where:
                unknown[m.group(1)].append(d.where)
            elif d.level != "warning":
                out.append(Finding("config", d.message, host=h.name, **_at(d.where)))
        for kw, wheres in sorted(unknown.items()):
            hint = " (keepalived 2.x calls it retry)" if kw == "nb_get_retry" else ""
            out.append(Finding("unknown-keyword", f"keepalived does not know '{kw}'{hint}; it ignores the line",
                               host=h.name, file=wheres[0].file, lines=tuple(w.line for w in wheres)))
        if not shutil.which(keepalived.Keepalived.binary):
            continue
        code, messages = keepalived.config_test(h.path, h.config_id)
        if code == 0 or h.config.diagnostics.errors:
            continue  # clean, or what keepalived -t says is already said above with its line
        for message in messages:
            said = re.match(r"\((.+): Line (\d+)\) (.*)", message)  # keepalived names the line of most
            if said:
                where = kaconfig.Where(said.group(1), int(said.group(2)))
                message = said.group(3)
            else:
                quoted = re.search(r"'([^']+)'|\b(\d+\.\d+\.\d+\.\d+\S*)", message)
                where = _locate(h.config.tree, quoted.group(1) or quoted.group(2)) if quoted else None
            out.append(Finding("keepalived-t", f"keepalived -t: {message}", host=h.name,
                               **(_at(where) if where else {"file": str(h.path)})))
    return out


def _locate(tree: kaconfig.Block, word: str) -> kaconfig.Where | None:
    """The first line whose keyword or arguments hold `word` (keepalived's messages name
    what they reject, not its line)."""
    todo = list(reversed(tree.children))
    while todo:
        b = todo.pop()
        if word == b.keyword or word in b.args:
            return b.where
        todo += reversed(b.children)
    return None


def _dr_arp(lab: ConfigSet, members: list[Member]) -> list[Finding]:
    """Hosts that hold a DR real server's address must not answer ARP for the LVS VIPs."""
    reals, vips = set(), set()
    for h in lab.hosts.values():
        for vs in h.config.virtual_servers:
            if vs.lb_kind == "DR":
                vips.add(vs.ip or vs.group or f"fwmark {vs.fwmark}")
                reals |= {rs.ip for rs in vs.real_servers}
    out = []
    for name in sorted({m.host for m in members if m.vips & reals} | {h.name for h in lab.hosts.values() if h.address in reals}):
        sysctl = lab.hosts[name].sysctl
        if sysctl is None:
            wanted = " and ".join(f"net.ipv4.conf.all.{key}={want}" for key, want in DR_ARP)
            out.append(Finding("dr-arp", f"{name} is a DR real server and nothing records its ARP sysctls",
                               f"set {wanted} (and put {', '.join(sorted(vips))} on lo) or clients may reach it directly",
                               name))
            continue
        for key, want in DR_ARP:
            if int(sysctl.get(f"net.ipv4.conf.all.{key}", "0")) < want:
                out.append(Finding("dr-arp", f"{name} is a DR real server with net.ipv4.conf.all.{key}="
                                   f"{sysctl.get(f'net.ipv4.conf.all.{key}', 0)}", f"set it to {want}", name))
    return out


def _vip_collisions(lab: ConfigSet, members: list[Member]) -> list[Finding]:
    owners = {h.address: h.name for h in lab.hosts.values() if h.address}
    out = []
    for m in members:
        for vip in sorted(m.vips & set(owners)):
            out.append(Finding("vip-is-host-address", f"{m.instance} on {m.host} uses VIP {vip}, which is {owners[vip]}'s own "
                               "address", "pick a free address for the VIP", m.host))
    return sorted(set(out), key=str)


def notes(lab: ConfigSet) -> list[str]:
    """Choices worth knowing that are not errors (the corrected lab keeps them on purpose)."""
    out = []
    top = {}  # (interface, VRID, VIPs) -> the highest priority: the host that preempts
    for m in lab.members():
        top[(m.interface, m.vrid, m.vips)] = max(top.get((m.interface, m.vrid, m.vips), 0), m.priority)
    for h in lab.hosts.values():
        checked = {vs.ip for vs in h.config.virtual_servers if any(rs.checkers for rs in vs.real_servers)}
        for i in h.config.instances:
            preempts = i.priority == top.get((i.interface or "?", i.vrid or 0, frozenset(i.vips)))
            if preempts and set(i.vips) & checked and not i.preempt_delay and not i.nopreempt:
                out.append(f"note: {h.name} {i.name} preempts as soon as it is back: after an outage longer than its "
                           "checkers take to remove its real servers, it can take its VIP before they re-add them and "
                           "send clients to an empty IPVS table (preempt_delay covers their next check; "
                           "docs/workshop.md, 1b)")
    for h in lab.hosts.values():
        for vs in h.config.virtual_servers:
            timeout = vs.persistence_timeout
            if timeout:
                out.append(f"note: {h.name} virtual_server {vs.ip} {vs.port} has persistence_timeout {timeout}: each client "
                           f"address sticks to one real server until it pauses {timeout} s; one client sees no balancing")
    return out


def render_spec(spec: LabSpec, into: Path) -> tuple[list[Path], dict[str, str]]:
    """A spec's files rendered as the lab renders them (labs.daemons.render): its
    keepalived configs, with its sysctl records beside them, and the hosts' addresses."""
    made = daemons.render(spec, RunPaths(into, into / "run"))
    return [d.config_file for d in made if isinstance(d, keepalived.Keepalived)], {h.name: h.ip for h in spec.hosts}


def lab_file_configs(spec: LabSpec) -> ConfigSet:
    """A lab file's configs as written (read where they are, includes and all, so findings
    name the user's files and lines), with its hosts' names, addresses, config ids and the
    sysctls the lab would set."""
    return load_files([Path(f.keepalived) for f in spec.files], {h.name: h.ip for h in spec.hosts},
                      {f.host: f.config_id for f in spec.files if f.config_id is not None}, [f.host for f in spec.files],
                      {f.host: sysctls_of_host(spec, spec.host(f.host)) for f in spec.files})


def main(argv: list[str] | None = None, prog: str = "python -m labs.lint") -> int:
    p = Parser(prog=prog, description=describe(__doc__))
    p.add_argument("inputs", nargs="+", help="keepalived config files (one per host), one topology name, or one lab file (.toml)")
    lab_arguments(p)  # with a topology or a lab file: the lab as labs.run would build it
    p.add_argument("--address", action="append", default=[], metavar="HOST=IP", help="a host's own address (with files)")
    p.add_argument("--config-id", action="append", default=[], metavar="HOST=ID",
                   help="the config id a host's keepalived runs with (keepalived -i; default: the host's name, as "
                        "keepalived's default is the node name): which `@ID` lines apply")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout instead of the lines")
    args = p.parse_args(argv)
    return entry_json(prog, lambda doc: lint(args, doc), args.json)


def lint(args: argparse.Namespace, doc: dict[str, Any]) -> int:
    """The findings (exit 1 if any) for config files, one topology or one lab file: printed,
    and into `doc` as data (the --json document, printed instead)."""
    try:
        addresses = dict(a.split("=", 1) for a in args.address)
    except ValueError:
        raise LabError("--address takes HOST=IP") from None
    try:
        config_ids = dict(a.split("=", 1) for a in args.config_id)
    except ValueError:
        raise LabError("--config-id takes HOST=ID (the host is the config file's name without .conf)") from None
    one = args.inputs[0] if len(args.inputs) == 1 else ""
    with tempfile.TemporaryDirectory() as tmp:
        if one in topologies.names() or one.endswith(".toml"):
            lab_choice = lab_of(args, one, config_test=False)  # what keepalived -t says is a finding here
            if lab_choice.is_lab_file and not lab_choice.settings:
                lab = lab_file_configs(lab_choice.spec)
            else:  # a topology, or a lab file with --set written into copies of its configs
                spec = lab_choice.spec
                files, known = render_spec(spec, Path(tmp))
                ids = {f.host: f.config_id for f in spec.files if f.config_id is not None}
                lab = load_files(files, {**known, **addresses}, {**ids, **config_ids})
        elif args.variant != "default" or args.servers is not None or args.set:
            raise LabError("--variant, --servers and --set change a topology or a lab file; config files are linted as "
                           "written (edit them)")
        else:
            lab = load_files([Path(i) for i in args.inputs], addresses, config_ids)
        findings = check(lab)
    said = notes(lab)
    doc.update(findings=[f.as_json() for f in findings], notes=said, configs=len(lab.hosts))
    if not args.json:
        print(*findings, *said, f"{len(findings)} finding(s) in {len(lab.hosts)} config(s)", sep="\n")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
