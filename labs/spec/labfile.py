"""A lab file: the user's own cluster as a TOML file that names each host's address, role
and files (its keepalived.conf as written, the scripts that config calls).

`load` reads it (tomllib) and derives the lab's spec from the configs themselves —
instances, priorities, VIPs, virtual servers, timers — so the lab, the scenarios' targets
and the model all follow what the files say. The configs run as written; what must change
for them to live in the lab (the interface name, absolute script paths, keepalived's
notify FIFO, `include`s inlined, `--set` values) is made by `labs.daemons.keepalived` and
listed per host in run.json (`config_changes`). `dump` writes a Python topology as a lab
file. The format is documented in docs/lab-files.md.
"""
from __future__ import annotations

import re
import shutil
import tomllib
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

from labs import daemons, kaconfig
from labs.daemons import keepalived
from labs.common.errors import LabError
from labs.lab.paths import RunPaths
from labs.spec import Host, HostFiles, LabSpec, RealServer, Timers, VirtualServer, VrrpInstance

ROLES = tuple(daemons.ROLES)  # what each role runs is decided there
HOST_KEYS = {"name", "address", "role", "keepalived", "scripts", "extra_addresses", "config_id"}
TOP_KEYS = {"name", "description", "subnet", "host", "arp_sysctls", "expire_nodest_conn", "config_errors_ok"}
# Settings (`--set NAME=VALUE`, the Timers field names) -> the (block, keyword) lines they change.
SETTING_LINES: dict[str, tuple[tuple[str, str], ...]] = {
    "advert_int": (("vrrp_instance", "advert_int"),),
    "vrrp_version": (("global_defs", "vrrp_version"),),
    "script_interval": (("vrrp_script", "interval"),),
    "script_fall": (("vrrp_script", "fall"),),
    "script_rise": (("vrrp_script", "rise"),),
    "script_weight": (("vrrp_script", "weight"),),
    "delay_loop": (("virtual_server", "delay_loop"),),
    "connect_timeout": (("TCP_CHECK", "connect_timeout"), ("HTTP_GET", "connect_timeout")),
    "retry": (("TCP_CHECK", "retry"), ("HTTP_GET", "retry"), ("TCP_CHECK", "nb_get_retry")),
    "delay_before_retry": (("TCP_CHECK", "delay_before_retry"), ("HTTP_GET", "delay_before_retry")),
    "persistence_timeout": (("virtual_server", "persistence_timeout"),),
    "garp_master_refresh": (("global_defs", "vrrp_garp_master_refresh"),),
}
# Where a config says nothing: keepalived's own defaults where the lab uses the value
# (no persistence, no GARP refresh, no script weight); the rest is never used without
# the block that would set it.
BASE_TIMERS = Timers(script_weight=0, restart_wait=0.0, persistence_timeout=0, garp_master_refresh=0)


def is_lab_file(name: str) -> bool:
    return name.endswith(".toml")


def load(path: Path, settings: dict[str, str] | None = None, config_test: bool = True) -> LabSpec:
    """The lab a lab file describes (with `settings` written into its configs); any
    mistake in it is one LabError naming the fix, before anything is built. `config_test`
    False: what keepalived -t says is left to the caller (lint lists it as findings)."""
    path = path.resolve()
    doc = _read_toml(path)
    where = path.name
    unknown = set(doc) - TOP_KEYS
    if unknown:
        raise LabError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; the keys are: {', '.join(sorted(TOP_KEYS))}")
    for key in ("name", "subnet", "host"):
        if key not in doc:
            raise LabError(f"{where}: missing `{key}`; see examples/ and docs/lab-files.md for the shape")
    try:
        net = IPv4Network(doc["subnet"])
    except ValueError as e:
        raise LabError(f"{where}: subnet {doc['subnet']!r} is not an IPv4 network ({e}); write it like 192.168.56.0/24") from None
    hosts = tuple(_host(h, where, net) for h in doc["host"])
    _check_hosts(hosts, where)
    texts: dict[str, str] = {}
    files: list[HostFiles] = []
    for entry, host in zip(doc["host"], hosts):
        files += _files(entry, host, path.parent, where, texts)
    timers_changed = Timers().with_settings(settings or {})  # types and names checked as for a topology
    changed = {f.name: getattr(timers_changed, f.name) for f in dataclass_fields(Timers) if f.name in (settings or {})}
    files = _apply_settings(files, texts, changed, where)
    spec = derive(str(doc["name"]), str(net), hosts, {f.host: f.text for f in files}, tuple(files),
                  description=str(doc.get("description", f"lab file {path}")),
                  arp_sysctls=bool(doc.get("arp_sysctls", True)),
                  expire_nodest_conn=bool(doc.get("expire_nodest_conn", False)),
                  config_errors_ok=bool(doc.get("config_errors_ok", False)), where=where)
    if config_test:
        _keepalived_test(spec)
    return spec


def _read_toml(path: Path) -> dict:
    if not path.is_file():
        raise LabError(f"no lab file {path}; give the path of a .toml file (see examples/)")
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise LabError(f"{path.name}: not valid TOML ({e}); fix that line") from None


def _host(entry: dict, where: str, net: IPv4Network) -> Host:
    name = entry.get("name", "?")
    unknown = set(entry) - HOST_KEYS
    if unknown:
        raise LabError(f"{where}: host {name}: unknown key(s) {', '.join(sorted(unknown))}; "
                       f"a host has: {', '.join(sorted(HOST_KEYS))}")
    for key in ("name", "address", "role"):
        if key not in entry:
            raise LabError(f"{where}: a host lacks `{key}` (every [[host]] needs name, address and role)")
    if entry["role"] not in ROLES:
        raise LabError(f"{where}: host {name} has role {entry['role']!r}; a role is one of: {', '.join(ROLES)}")
    if not re.fullmatch(r"[a-z][a-z0-9_-]{0,9}", name):
        raise LabError(f"{where}: host name {name!r}: use 1-10 lower-case letters, digits, - or _ "
                       "(it names a network namespace and its interfaces)")
    extra = tuple(entry.get("extra_addresses", ()))
    for address in (entry["address"], *extra):
        try:
            inside = IPv4Address(address) in net
        except ValueError:
            raise LabError(f"{where}: host {name}: {address!r} is not an IPv4 address") from None
        if not inside:
            raise LabError(f"{where}: host {name}'s address {address} is outside the subnet {net}; "
                           "pick one inside it or widen `subnet`")
    if extra and entry["role"] != "client":
        raise LabError(f"{where}: host {name}: extra_addresses are for the client (its extra source addresses)")
    if entry["role"] == "client" and ("keepalived" in entry or "scripts" in entry):
        raise LabError(f"{where}: host {name} is the client: it runs no keepalived or scripts")
    if entry["role"] == "director" and "keepalived" not in entry:
        raise LabError(f"{where}: director {name} needs `keepalived = \"<its keepalived.conf>\"`")
    return Host(name, entry["address"], entry["role"], extra)


def _check_hosts(hosts: tuple[Host, ...], where: str) -> None:
    names = [h.name for h in hosts]
    for n in sorted({n for n in names if names.count(n) > 1}):
        raise LabError(f"{where}: two hosts are named {n}; give each host its own name")
    owners: dict[str, str] = {}
    for h in hosts:
        for a in h.source_ips:
            if a in owners:
                raise LabError(f"{where}: {owners[a]} and {h.name} both have the address {a}; give each its own")
            owners[a] = h.name
    clients = [h.name for h in hosts if h.role == "client"]
    if len(clients) != 1:
        raise LabError(f"{where}: a lab has exactly one host with role \"client\" (it has {len(clients)}); "
                       "the client probes the VIPs")


def _files(entry: dict, host: Host, folder: Path, where: str, texts: dict[str, str]) -> list[HostFiles]:
    """The host's config as written (includes inlined, as keepalived reads them) and its
    scripts, all found."""
    if "keepalived" not in entry:
        return []
    conf = _existing(folder, entry["keepalived"], where, host.name)
    scripts = tuple(str(_existing(folder, s, where, host.name)) for s in entry.get("scripts", ()))
    # keepalived's config id, without -i, is the node name: on the real host, its name
    config_id = entry.get("config_id", host.name)
    if not (isinstance(config_id, str) and re.fullmatch(r"\S+", config_id)):
        raise LabError(f"{where}: host {host.name}: config_id {config_id!r}: give one word, as keepalived -i takes it")
    try:
        config = kaconfig.read_checked(conf, config_id)
    except LabError as e:
        raise LabError(f"{where}: host {host.name}: {e}") from None
    if config.has_track_process:
        raise LabError(f"{where}: {conf} has a vrrp_track_process, which cannot run in the lab: keepalived hears of "
                       "processes from the kernel's process-events connector, which answers only in the host's initial "
                       "network namespace, never in a lab host's; track the process with a vrrp_script instead")
    text, inlined = kaconfig.flatten(conf, config_id)
    texts[host.name] = text
    changes = tuple(f"include {i} inlined (the lab runs one file)" for i in inlined)
    return [HostFiles(host.name, str(conf), scripts, changes, text, config_id)]


def _existing(folder: Path, name: str, where: str, host: str) -> Path:
    path = (folder / name).resolve()
    if not path.is_file():
        raise LabError(f"{where}: host {host}: no file {name} (looked for {path}); fix the path, relative to the lab file")
    return path


def keyword_lines(root: kaconfig.Block, block: str, keyword: str) -> list[int]:
    """Line numbers of `keyword` statements anywhere under a `block` block."""
    found: list[int] = []

    def walk(b: kaconfig.Block, inside: bool) -> None:
        for c in b.children:
            if inside and c.keyword == keyword:
                found.append(c.line)
            walk(c, inside or c.keyword == block)

    walk(root, False)
    return found


def set_lines(text: str, lines: list[int], keyword: str, value: str) -> str:
    """`text` with `keyword`'s argument on each of `lines` replaced by `value`."""
    out = text.splitlines()
    for n in lines:
        out[n - 1] = re.sub(rf"(\b{re.escape(keyword)}\s+)(\S+)", lambda m: m.group(1) + value, out[n - 1], count=1)
    return "\n".join(out) + "\n"


def _apply_settings(files: list[HostFiles], texts: dict[str, str], changed: dict[str, object],
                    where: str) -> list[HostFiles]:
    """Write `--set` values into the configs (each line changed listed); a setting no config
    has is an error: the sweep would change nothing."""
    out = []
    found = {name: False for name in changed}
    for f in files:
        text, changes = texts[f.host], list(f.changes)
        for name, value in changed.items():
            written = f"{value:g}" if isinstance(value, float) else str(int(value) if isinstance(value, bool) else value)
            for block, keyword in SETTING_LINES.get(name, ()):
                lines = keyword_lines(kaconfig.read(Path(f.keepalived), f.config_id, text).tree, block, keyword)
                if lines:
                    found[name] = True
                    text = set_lines(text, lines, keyword, written)
                    changes.append(f"--set {name}={written}: {keyword} in {block} (line {', '.join(map(str, lines))})")
        texts[f.host] = text
        out.append(replace(f, changes=tuple(changes), text=text))
    missing = [n for n, ok in found.items() if not ok]
    if missing:
        name = missing[0]
        what = " or ".join(f"{k} in {b}" for b, k in SETTING_LINES.get(name, ())) or "no config keyword"
        raise LabError(f"--set {name}: the lab file's configs have no line to change ({what}); "
                       "add it to the configs first, or sweep a setting they have")
    return out


def derive(name: str, subnet: str, hosts: tuple[Host, ...], texts: dict[str, str], files: tuple[HostFiles, ...],
           where: str = "", **options: object) -> LabSpec:
    """The spec the configs describe, read as keepalived reads them (labs.kaconfig): one
    VrrpInstance per VRRP group (the hosts' instances with the same VRID and VIP), with the
    priority of every host that runs it, the directors' virtual servers, and timers as the
    configs set them (keepalived's defaults where they do not)."""
    roles = {h.name: h.role for h in hosts}
    ids = {f.host: f.config_id for f in files}
    paths = {f.host: Path(f.keepalived) for f in files}
    groups: dict[tuple[int, str], dict] = {}
    virtual: dict[tuple[str, int], VirtualServer] = {}
    router_ids, interfaces = [], []
    t: dict[str, object] = {}
    for host, text in texts.items():
        config = kaconfig.read(paths[host], ids.get(host), text)
        g = config.global_defs
        if g.router_id:
            router_ids.append((host, g.router_id))
        t.update(vrrp_version=g.vrrp_version, garp_master_refresh=g.garp_master_refresh,
                 higher_prio_send_advert=g.higher_prio_send_advert)
        for inst in config.instances:
            _instance(inst, host, groups, interfaces, t, where)
        for script in config.scripts.values():
            t.update(script_interval=script.interval, script_fall=script.fall, script_rise=script.rise,
                     script_weight=script.weight)
        for vs in config.virtual_servers:
            if vs.fwmark is not None or vs.group:
                raise LabError(f"{where}: {vs.where}: a virtual_server by {'group' if vs.group else 'fwmark'} cannot "
                               "be probed by the lab (its client probes an address and port); give the virtual "
                               "server its address and port")
            for check in [c for rs in vs.real_servers for c in rs.checkers if c.retry is not None][:1]:
                t.update(connect_timeout=check.connect_timeout, retry=check.retry,
                         delay_before_retry=check.delay_before_retry)
            t.update(delay_loop=vs.delay_loop, persistence_timeout=vs.persistence_timeout)
            reals = tuple(RealServer(rs.ip, rs.port, rs.weight) for rs in vs.real_servers)
            virtual.setdefault((vs.ip, vs.port), VirtualServer(vs.ip, vs.port, vs.lb_algo, reals, vs.lb_kind,
                                                               vs.protocol))
    tiers: dict[str, list[VrrpInstance]] = {"director": [], "real_server": []}
    for e in groups.values():
        ranked = tuple(sorted(e["priorities"].items(), key=lambda hp: -hp[1]))  # the master first
        inst = VrrpInstance(e["name"], e["vrid"], e["vip"], e["auth"], ranked, preempt_delay=e["preempt_delay"])
        override = tuple((h, s) for h, s in e["states"].items() if s != inst.state(h))
        tier = {roles[h] for h in inst.hosts}
        if len(tier) != 1 or tier - set(tiers):
            raise LabError(f"{where}: {e['name']} (VIP {e['vip']}) runs on {', '.join(inst.hosts)}: a VRRP instance's "
                           "hosts must all be directors or all real servers")
        tiers[tier.pop()].append(replace(inst, state_override=override, nopreempt=tuple(e["nopreempt"])))
    interface = interfaces[0] if interfaces else "eth0"
    unicast = bool(t.pop("unicast", False))
    spec = LabSpec(
        name=name, subnet=subnet, interface=interface, hosts=hosts,
        director_instances=tuple(tiers["director"]), server_instances=tuple(tiers["real_server"]),
        virtual_servers=tuple(virtual.values()), timers=replace(BASE_TIMERS, **t),
        router_ids=tuple(router_ids), unicast=unicast, files=files, **options,  # type: ignore[arg-type]
    )
    _check_references(spec, where)
    return spec


def _instance(inst: kaconfig.Instance, host: str, groups: dict[tuple[int, str], dict], interfaces: list[str],
              t: dict[str, object], where: str) -> None:
    """One host's vrrp_instance joined to its VRRP group. The same VIP under two VRIDs
    stays two groups, as keepalived runs it (two masters; lint names it)."""
    if not inst.vips:
        raise LabError(f"{where}: {inst.where}: {host}'s vrrp_instance {inst.name} has no address in "
                       "virtual_ipaddress; give it its VIP")
    assert inst.vrid is not None  # the reader drops an instance without one, as keepalived does
    e = groups.setdefault((inst.vrid, inst.vips[0]), {"name": inst.name, "vrid": inst.vrid, "vip": inst.vips[0],
                                                      "priorities": {}, "states": {}, "nopreempt": [],
                                                      "auth": inst.auth_pass, "preempt_delay": 0.0})
    e["priorities"][host] = inst.priority
    e["states"][host] = inst.state
    if inst.nopreempt:
        e["nopreempt"].append(host)
    e["preempt_delay"] = max(e["preempt_delay"], inst.preempt_delay)
    if inst.interface:
        interfaces.append(inst.interface)
    t["advert_int"] = max(float(t.get("advert_int", 0.0)), inst.advert_int)  # type: ignore[arg-type]
    t["vrrp_version"] = inst.version
    t["unicast"] = bool(t.get("unicast")) or bool(inst.unicast_peers)


def _check_references(spec: LabSpec, where: str) -> None:
    """VIPs inside the subnet and not host addresses; real servers the lab can reach."""
    try:
        spec.validate()
    except ValueError as e:
        raise LabError(f"{where}: {str(e).split(': ', 1)[-1]}; fix the config or the host's address") from None
    reachable = {h.ip for h in spec.real_servers} | {i.vip for i in spec.server_instances}
    for vs in spec.virtual_servers:
        if vs.lb_kind.upper() != "DR":
            raise LabError(f"{where}: virtual_server {vs.vip} {vs.port} uses lb_kind {vs.lb_kind}; the lab runs "
                           "direct routing (lb_kind DR) only")
        for rs in vs.real_servers:
            if rs.ip not in reachable:
                raise LabError(f"{where}: virtual_server {vs.vip}'s real_server {rs.ip} is neither a real_server host's "
                               "address nor a VIP of theirs; add that host (role real_server) or fix the address")
    if spec.directors and not spec.virtual_servers:
        raise LabError(f"{where}: no director's config has a virtual_server; the client probes the virtual servers' VIPs")
    if not spec.client_vips:
        raise LabError(f"{where}: no config has a VIP the client could probe: give the directors a virtual_server, "
                       "or the real servers a vrrp_instance")


def _keepalived_test(spec: LabSpec) -> None:
    """`keepalived -t` on every config before anything is built (bring-up runs it again
    inside the lab, where the interface exists); its message is shown on failure."""
    if not shutil.which(keepalived.Keepalived.binary):
        return  # the requirements check names the package before anything is built
    for f in spec.files:
        code, lines = keepalived.config_test(Path(f.keepalived), f.config_id)
        if code != 0 and lines and not spec.config_errors_ok:
            raise LabError(f"keepalived -t rejects {f.keepalived} (host {f.host}): {' | '.join(lines[:3])}; fix it, or set "
                           "config_errors_ok = true in the lab file to run what keepalived accepts of it")


def dump(spec: LabSpec, folder: Path) -> Path:
    """Write `spec` as a lab file in `folder`: <name>.toml and each host's keepalived.conf
    (and check script) as an operator would keep them; returns the lab file's path."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"# {spec.name} ({spec.variant}), written by `python -m labs.run {spec.name} --dump`.",
             f"name = {_q(spec.name)}", f"description = {_q(spec.description)}", f"subnet = {_q(spec.subnet)}",
             f"arp_sysctls = {_b(spec.arp_sysctls)}", f"expire_nodest_conn = {_b(spec.expire_nodest_conn)}",
             f"config_errors_ok = {_b(spec.config_errors_ok)}"]
    paths = RunPaths(folder, folder / ".unused")
    for host in spec.hosts:
        lines += ["", "[[host]]", f"name = {_q(host.name)}", f"address = {_q(host.ip)}", f"role = {_q(host.role)}"]
        if host.extra_ips:
            lines.append(f"extra_addresses = [{', '.join(_q(a) for a in host.extra_ips)}]")
        if host.role == "client":
            continue
        written = keepalived.Keepalived(spec, host, paths).write_as_operator(folder / host.name)
        lines.append(f"keepalived = {_q(written[0].relative_to(folder).as_posix())}")
        if written[1:]:
            lines.append(f"scripts = [{', '.join(_q(p.relative_to(folder).as_posix()) for p in written[1:])}]")
    out = folder / f"{spec.name}.toml"
    out.write_text("\n".join(lines) + "\n")
    return out


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _b(flag: bool) -> str:
    return "true" if flag else "false"
