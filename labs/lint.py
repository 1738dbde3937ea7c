"""`python -m labs.lint`: check the keepalived configs of a whole lab together.

    python -m labs.lint topologies/seed_article/*.conf      # files: one per host
    python -m labs.lint dual_master [--variant seed]        # a topology, rendered first
    python -m labs.lint examples/article/article.toml       # a lab file: its configs as written

Each finding is one line: what is wrong, where, and the fix. Checks: a VRID used by two
different VRRP groups on one segment, duplicate router_ids, two MASTERs or none per
group, a track weight that can never move the VIP given the priorities, keywords
`keepalived -t` does not know, DR real servers without arp_ignore/arp_announce (read from
a `sysctl.conf` beside each host's config), VIPs that are also host addresses.
Exit status: 0 clean, 1 findings, 2 bad input.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from labs import kaconf
from labs.command import entry
from labs.errors import LabError
from labs.spec import LabSpec

KEEPALIVED = "/usr/sbin/keepalived"
ARP = {"arp_ignore": 1, "arp_announce": 2}


@dataclass(frozen=True)
class Finding:
    check: str
    message: str

    def __str__(self) -> str:
        return f"{self.check}: {self.message}"


@dataclass
class ConfigHost:
    """One host's keepalived config as the linter reads it (not a running lab host)."""

    name: str
    path: Path
    conf: kaconf.Block
    sysctl: dict[str, str] | None = None
    address: str | None = None


@dataclass(frozen=True)
class Member:
    host: str
    instance: str
    interface: str
    vrid: str
    vips: frozenset[str]
    state: str
    priority: int
    tracks: tuple[str, ...]


@dataclass
class ConfigSet:
    """The configs of a whole lab, linted together (VRIDs and router_ids span hosts)."""

    hosts: dict[str, ConfigHost] = field(default_factory=dict)

    def members(self) -> list[Member]:
        out = []
        for h in self.hosts.values():
            for inst in h.conf.all("vrrp_instance"):
                vips = frozenset(c.keyword.split("/")[0] for b in inst.all("virtual_ipaddress") for c in b.children)
                tracks = tuple(c.keyword for b in inst.all("track_script") for c in b.children)
                out.append(Member(h.name, inst.args[0] if inst.args else "?", _get(inst, "interface"),
                                  _get(inst, "virtual_router_id"), vips, _get(inst, "state", "BACKUP").upper(),
                                  int(_get(inst, "priority", "100")), tracks))
        return out


def _get(block: kaconf.Block, key: str, default: str = "?") -> str:
    found = block.all(key)
    return found[0].args[0] if found and found[0].args else default


def load_files(paths: list[Path], addresses: dict[str, str]) -> ConfigSet:
    lab = ConfigSet()
    for path in paths:
        if not path.is_file():
            raise LabError(f"{path}: no such file; pass keepalived configs (one per host) or a topology name")
        name = path.parent.name if path.name == "keepalived.conf" else path.stem
        try:
            conf = kaconf.read(path)
        except ValueError as e:
            raise LabError(f"{path} is not a keepalived config: {e}") from None
        if not any(c.keyword in ("vrrp_instance", "virtual_server", "global_defs") for c in conf.children):
            raise LabError(f"{path} is not a keepalived config (no global_defs, vrrp_instance or virtual_server)")
        sysctl_file = path.with_name("sysctl.conf") if path.name == "keepalived.conf" else path.with_suffix(".sysctl")
        sysctl = None
        if sysctl_file.exists():
            sysctl = dict(re.findall(r"^\s*([\w.]+)\s*=\s*(\S+)", sysctl_file.read_text(), re.M))
        lab.hosts[name] = ConfigHost(name, path, conf, sysctl, addresses.get(name))
    return lab


def check(lab: ConfigSet) -> list[Finding]:
    members = lab.members()
    found: list[Finding] = []
    groups: dict[tuple[str, str, frozenset[str]], list[Member]] = defaultdict(list)
    for m in members:
        groups[(m.interface, m.vrid, m.vips)].append(m)
    by_vrid: dict[tuple[str, str], list[tuple[frozenset[str], list[Member]]]] = defaultdict(list)
    for (iface, vrid, vips), ms in groups.items():
        by_vrid[(iface, vrid)].append((vips, ms))
    for (iface, vrid), gs in sorted(by_vrid.items()):
        if len(gs) > 1:
            desc = "; ".join(f"{','.join(sorted(v))} on {','.join(sorted(m.host for m in ms))}" for v, ms in gs)
            found.append(Finding("vrid-reused", f"VRID {vrid} on {iface} is used by {len(gs)} different VRRP groups ({desc}): "
                                 f"give each group its own virtual_router_id (1-255) on a shared segment"))
    ids: dict[str, list[str]] = defaultdict(list)
    for h in lab.hosts.values():
        gd = h.conf.all("global_defs")
        if gd and gd[0].all("router_id"):
            ids[gd[0].value("router_id")].append(h.name)
    for rid, hosts in sorted(ids.items()):
        if len(hosts) > 1:
            found.append(Finding("router-id", f"router_id {rid} is used by {', '.join(sorted(hosts))}: "
                                              "give every host its own router_id"))
    for (iface, vrid, vips), ms in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], sorted(kv[0][2]))):
        masters = [m for m in ms if m.state == "MASTER"]
        label = f"{ms[0].instance} (VRID {vrid}, {','.join(sorted(vips))})"
        if not masters:
            best = max(ms, key=lambda m: m.priority)
            found.append(Finding("no-master", f"{label}: no host is configured MASTER; set state MASTER on {best.host} "
                                 f"(priority {best.priority}) so the configuration says who should hold the VIP"))
        elif len(masters) > 1:
            found.append(Finding("two-masters", f"{label}: {', '.join(m.host for m in masters)} are all configured MASTER; "
                                 f"keep one MASTER and make the others BACKUP"))
        found += _weights(lab, label, ms)
    found += _unknown_keywords(lab)
    found += _dr_arp(lab, members)
    found += _vip_collisions(lab, members)
    return found


def _weights(lab: ConfigSet, label: str, ms: list[Member]) -> list[Finding]:
    """A failing track_script on the top host must leave it below the best other host."""
    if len(ms) < 2:
        return []
    top = max(ms, key=lambda m: m.priority)
    rest = max((m for m in ms if m is not top), key=lambda m: m.priority)
    out = []
    for script in top.tracks:
        blocks = [b for b in lab.hosts[top.host].conf.all("vrrp_script") if b.args and b.args[0] == script]
        if not blocks:
            continue
        weight = int(_get(blocks[0], "weight", "0"))
        fail_top = top.priority + min(weight, 0)
        ok_rest = rest.priority + max(weight, 0)
        if fail_top >= ok_rest:
            need = -(top.priority - rest.priority + 1)
            out.append(Finding("weight-cannot-move", f"{label}: track_script {script} weight {weight} on {top.host}: a failed "
                               f"check leaves priority {fail_top} >= {ok_rest} on {rest.host}, so the VIP never moves; "
                               f"use weight {need} or lower"))
    return out


def _unknown_keywords(lab: ConfigSet) -> list[Finding]:
    out = []
    for h in lab.hosts.values():
        p = subprocess.run([KEEPALIVED, "--config-test", "-f", str(h.path)], capture_output=True, text=True)
        for kw in sorted(set(re.findall(r"Unknown keyword '([^']+)'", p.stdout + p.stderr))):
            hint = " (keepalived 2.x calls it retry)" if kw == "nb_get_retry" else ""
            out.append(Finding("unknown-keyword", f"{h.path}: keepalived does not know '{kw}'{hint}; it ignores the line"))
    return out


def _dr_arp(lab: ConfigSet, members: list[Member]) -> list[Finding]:
    """Hosts that hold a DR real server's address must not answer ARP for the LVS VIPs."""
    reals, vips = set(), set()
    for h in lab.hosts.values():
        for vs in h.conf.all("virtual_server"):
            if _get(vs, "lb_kind", "NAT").upper() == "DR":
                vips.add(vs.args[0])
                reals |= {rs.args[0] for rs in vs.all("real_server") if rs.args}
    out = []
    for name in sorted({m.host for m in members if m.vips & reals} | {h.name for h in lab.hosts.values() if h.address in reals}):
        sysctl = lab.hosts[name].sysctl
        if sysctl is None:
            out.append(Finding("dr-arp", f"{name} is a DR real server and nothing records its ARP sysctls: set "
                               f"net.ipv4.conf.all.arp_ignore=1 and net.ipv4.conf.all.arp_announce=2 (and put "
                               f"{', '.join(sorted(vips))} on lo) or clients may reach it directly"))
            continue
        for key, want in ARP.items():
            if int(sysctl.get(f"net.ipv4.conf.all.{key}", "0")) < want:
                out.append(Finding("dr-arp", f"{name} is a DR real server with net.ipv4.conf.all.{key}="
                                   f"{sysctl.get(f'net.ipv4.conf.all.{key}', 0)}: set it to {want}"))
    return out


def _vip_collisions(lab: ConfigSet, members: list[Member]) -> list[Finding]:
    owners = {h.address: h.name for h in lab.hosts.values() if h.address}
    out = []
    for m in members:
        for vip in sorted(m.vips & set(owners)):
            out.append(Finding("vip-is-host-address", f"{m.instance} on {m.host} uses VIP {vip}, which is {owners[vip]}'s own "
                               f"address: pick a free address for the VIP"))
    return sorted(set(out), key=str)


def notes(lab: ConfigSet) -> list[str]:
    """Choices worth knowing that are not errors (the corrected lab keeps them on purpose)."""
    out = []
    for h in lab.hosts.values():
        for vs in h.conf.all("virtual_server"):
            timeout = _get(vs, "persistence_timeout", "0")
            if timeout != "0":
                out.append(f"note: {h.name} virtual_server {' '.join(vs.args)} has persistence_timeout {timeout}: each client "
                           f"address sticks to one real server until it pauses {timeout} s; one client sees no balancing")
    return out


def render_topology(name: str, variant: str, into: Path) -> tuple[list[Path], dict[str, str]]:
    """Render a topology's keepalived configs (and the sysctls it sets) for linting."""
    import topologies

    return render_spec(topologies.load(name).spec(variant), into)


def render_spec(spec: LabSpec, into: Path) -> tuple[list[Path], dict[str, str]]:
    from labs import daemons
    from labs.daemons.keepalived import Keepalived
    from labs.lab.network import sysctl_record
    from labs.lab.paths import RunPaths

    paths = RunPaths(into, into / "run")
    files = []
    for d in daemons.of_lab(spec, paths):
        if isinstance(d, Keepalived):
            d.render()
            (d.config_dir / "sysctl.conf").write_text(sysctl_record(spec, d.host))
            files.append(d.config_file)
    return files, {h.name: h.ip for h in spec.hosts}


def write_lab_file(path: Path, into: Path) -> tuple[list[Path], dict[str, str], dict[str, str]]:
    """A lab file's configs as written (includes inlined) with the sysctls the lab would
    set, for linting: the findings name the hosts of the lab file (and, by the last
    mapping, the user's files rather than these copies)."""
    from labs import labfile
    from labs.lab.network import sysctl_record

    spec = labfile.load(path)
    files = []
    for f in spec.files:
        conf = into / f.host / "keepalived.conf"
        conf.parent.mkdir(parents=True)
        conf.write_text(f.text)
        (conf.parent / "sysctl.conf").write_text(sysctl_record(spec, spec.host(f.host)))
        files.append(conf)
    return files, {h.name: h.ip for h in spec.hosts}, {str(into / f.host / "keepalived.conf"): f.keepalived for f in spec.files}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m labs.lint", description=__doc__.split("\n")[0].strip("`"))
    p.add_argument("inputs", nargs="+", help="keepalived config files (one per host), one topology name, or one lab file (.toml)")
    p.add_argument("--variant", default="default", help="with a topology: its variant (e.g. seed)")
    p.add_argument("--address", action="append", default=[], metavar="HOST=IP", help="a host's own address (with files)")
    args = p.parse_args(argv)
    return entry("python -m labs.lint", lambda: lint(args.inputs, args.variant, args.address))


def lint(inputs: list[str], variant: str, address_args: list[str]) -> int:
    """Print the findings (exit 1 if any) for config files or one topology."""
    try:
        addresses = dict(a.split("=", 1) for a in address_args)
    except ValueError:
        raise LabError("--address takes HOST=IP") from None
    originals: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        import topologies

        if len(inputs) == 1 and inputs[0] in topologies.names():
            files, known = render_topology(inputs[0], variant, Path(tmp))
            addresses = {**known, **addresses}
        elif len(inputs) == 1 and inputs[0].endswith(".toml"):
            files, known, originals = write_lab_file(Path(inputs[0]), Path(tmp))
            addresses = {**known, **addresses}
        else:
            files = [Path(i) for i in inputs]
        lab = load_files(files, addresses)
        findings = check(lab)
    for f in findings:
        text = str(f)
        for written, original in originals.items():  # a lab file's findings name the user's files
            text = text.replace(written, original)
        print(text)
    for n in notes(lab):
        print(n)
    print(f"{len(findings)} finding(s) in {len(files)} config(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
