"""What keepalived will run, typed: the block tree read with keepalived 2.2.7's handlers.

Each value is read as keepalived's handler reads it (labs.kaconfig.numbers), and each
default is keepalived's own, in one place (DEFAULTS, with the source it comes from). What
keepalived would report is added to the diagnostics with its file and line. Only what
decides a failover and what the lab and lint use is typed; the tree keeps the rest.
"""
from __future__ import annotations

import math
from ipaddress import ip_interface
from dataclasses import dataclass, field, replace

from labs.kaconfig import numbers
from labs.kaconfig.lines import Diagnostics, Where, quoted_words
from labs.kaconfig.tree import Block

# keepalived 2.2.7's defaults where a config says nothing, with where each is set.
DEFAULTS: dict[str, tuple[float, str]] = {
    "priority": (100, "VRRP_PRIO_DFL, keepalived/include/vrrp.h"),
    "advert_int": (1.0, "VRRP_ADVER_DFL, keepalived/include/vrrp.h"),
    "vrrp_version": (2, "global_defs vrrp_version, keepalived.conf(5)"),
    "preempt_delay": (0.0, "alloc_vrrp, keepalived/vrrp/vrrp_data.c"),
    "script_interval": (1.0, "VRRP_SCRIPT_DI, keepalived/include/vrrp_track.h"),
    "script_timeout": (0.0, "VRRP_SCRIPT_DT, keepalived/include/vrrp_track.h (0: the interval)"),
    "script_weight": (0, "VRRP_SCRIPT_DW, keepalived/include/vrrp_track.h"),
    "script_rise": (1, "alloc_vrrp_script, keepalived/vrrp/vrrp_data.c"),
    "script_fall": (1, "alloc_vrrp_script, keepalived/vrrp/vrrp_data.c"),
    "garp_master_refresh": (0, "vrrp_garp_master_refresh, keepalived.conf(5)"),
    "delay_loop": (60.0, "KEEPALIVED_DEFAULT_DELAY, keepalived/include/check_data.h"),
    "connect_timeout": (5.0, "alloc_vs, keepalived/check/check_data.c"),
    "retry": (1, "default_retry, keepalived/check/check_api.c (MISC_CHECK 0, DNS_CHECK 3: RETRY_DEFAULTS)"),
    "delay_before_retry": (1.0, "default_delay_before_retry, keepalived/check/check_api.c (HTTP_GET/SSL_GET 3 s: "
                           "check_http.c; DNS_CHECK: the delay_loop)"),
    "real_server_weight": (1, "alloc_vs, keepalived/check/check_data.c (a real server takes its virtual server's)"),
    "persistence_timeout": (0, "alloc_vs, keepalived/check/check_data.c (no persistence)"),
}
CHECKERS = ("TCP_CHECK", "HTTP_GET", "SSL_GET", "SMTP_CHECK", "DNS_CHECK", "MISC_CHECK", "UDP_CHECK", "PING_CHECK",
            "FILE_CHECK", "BFD_CHECK")
UNTIMED = ("FILE_CHECK", "BFD_CHECK")  # checkers keepalived does not launch: they follow a file or a BFD session
RETRY_DEFAULTS = {"MISC_CHECK": 0, "DNS_CHECK": 3}  # check_misc.c; DNS_DEFAULT_RETRY, keepalived/include/check_dns.h
# a checker's own connection (check_smtp.c: with any of these an SMTP_CHECK keeps its own besides its hosts')
CONNECTION_KEYWORDS = ("connect_ip", "connect_port", "bindto", "bind_port", "bind_if", "fwmark", "connect_timeout")
TIMER_MAX_S = 2_000_000  # TIMER_MAX_SEC, lib/timer.h: the longest timer keepalived takes


def default(name: str) -> float:
    return DEFAULTS[name][0]


@dataclass(frozen=True)
class Track:
    """A tracked script, interface or file as an instance applies it: `weight` (the
    track line's own, else the script's) added to the priority while it fails (or, with
    `reverse`, subtracted while it succeeds); weight 0 puts the instance in FAULT."""

    name: str
    weight: int
    reverse: bool = False
    where: Where | None = None


@dataclass(frozen=True)
class Script:
    name: str
    command: tuple[str, ...]  # the program and its arguments, as keepalived splits the `script` line
    interval: float
    timeout: float
    weight: int
    reverse: bool
    rise: int
    fall: int
    where: Where | None = None


@dataclass(frozen=True)
class Instance:
    name: str
    vrid: int | None
    interface: str
    priority: int
    state: str  # the configured state keepalived starts from ("BACKUP" unless MASTER or priority 255)
    advert_int: float
    version: int
    vips: tuple[str, ...]  # as written, without the prefix length
    nopreempt: bool = False
    preempt_delay: float = 0.0
    unicast_peers: tuple[str, ...] = ()
    unicast_src_ip: str = ""
    auth_pass: str = ""
    track_scripts: tuple[Track, ...] = ()
    track_interfaces: tuple[Track, ...] = ()
    track_files: tuple[Track, ...] = ()
    sync_group: str = ""
    where: Where | None = None


@dataclass(frozen=True)
class SyncGroup:
    name: str
    members: tuple[str, ...]
    where: Where | None = None
    tracking_weight: bool = False  # sync_group_tracking_weight: members keep their weighted tracks


@dataclass(frozen=True)
class Checker:
    """One checker keepalived runs (its timers None for checkers that poll nothing)."""

    kind: str  # TCP_CHECK, HTTP_GET, ...
    connect_timeout: float | None
    retry: int | None
    delay_before_retry: float | None
    delay_loop: float | None
    where: Where | None = None


@dataclass(frozen=True)
class RealServer:
    ip: str
    port: int
    weight: int
    checkers: tuple[Checker, ...] = ()
    where: Where | None = None


@dataclass(frozen=True)
class VirtualServer:
    """A virtual server by address and port, by fwmark (`fwmark`), or by group (`group`)."""

    ip: str
    port: int
    protocol: str
    lb_algo: str
    lb_kind: str
    persistence_timeout: int
    delay_loop: float
    real_servers: tuple[RealServer, ...]
    fwmark: int | None = None
    group: str = ""
    where: Where | None = None


@dataclass(frozen=True)
class GlobalDefs:
    router_id: str = ""
    vrrp_version: int = 2
    garp_master_refresh: int = 0
    higher_prio_send_advert: bool = False
    lvs_sync_daemon: tuple[str, ...] = ()  # its words: interface, then [inst] NAME, id N, ...
    notify_fifo: str = ""
    enable_script_security: bool = False
    default_interface: str = ""


@dataclass
class Config:
    """One host's configuration as keepalived will run it."""

    global_defs: GlobalDefs
    scripts: dict[str, Script]
    instances: list[Instance]
    sync_groups: list[SyncGroup]
    virtual_servers: list[VirtualServer]
    vs_groups: dict[str, tuple[str, ...]]
    tree: Block
    files: list[str] = field(default_factory=list)
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    has_track_process: bool = False


def script_command(line: Block) -> tuple[str, ...]:
    """A script keyword's command (set_script_params_array): keepalived splits the line
    shell-style, takes its second word only, and splits that into the program and its
    arguments: `script "/bin/check -x" ignored` runs /bin/check -x."""
    words = quoted_words(line.text)
    if not words or len(words) < 2:
        return ()
    return tuple(quoted_words(words[1]) or ())


class _Read:
    """The handlers: one method a block, each reporting as keepalived does."""

    def __init__(self, diag: Diagnostics) -> None:
        self.diag = diag

    def arg(self, b: Block, i: int = 0) -> str | None:
        if len(b.args) > i:
            return b.args[i]
        self.diag.add(b.where, f"'{b.keyword}' is missing a value: keepalived stops reading the config", "fatal")
        return None

    def integer(self, b: Block | None, low: int, high: int, fallback: int, ignore_error: bool = True,
                what: str = "", signed: bool = True) -> int:
        if b is None:
            return fallback
        text = self.arg(b)
        if text is None:
            return fallback
        n = numbers.integer(text, low, high, ignore_error, signed)
        if n.problem:
            used = f"keepalived uses {n.value}" if n.value is not None else f"keepalived uses {fallback}"
            self.diag.add(b.where, f"{what or b.keyword} {text}: {n.problem}; {used}")
        return fallback if n.value is None else n.value

    def seconds(self, b: Block | None, low: float, high: float, fallback: float, ignore_error: bool = True) -> float:
        if b is None:
            return fallback
        text = self.arg(b)
        if text is None:
            return fallback
        n = numbers.decimal(text, low, high, ignore_error)
        if n.problem:
            used = n.value / 1e6 if n.value is not None else fallback
            self.diag.add(b.where, f"{b.keyword} {text}: {n.problem}; keepalived uses {used:g} s")
        return fallback if n.value is None else n.value / 1e6

    def flag(self, b: Block | None) -> bool:
        if b is None:
            return False
        if b.args and b.args[0] in ("false", "off", "no"):
            return False
        return True

    # -- VRRP ------------------------------------------------------------------------------
    def global_defs(self, root: Block) -> GlobalDefs:
        g = Block("global_defs")
        for b in root.all("global_defs"):  # several global_defs blocks add up
            g.children += b.children
        rid = g.last("router_id")
        sync = g.last("lvs_sync_daemon")
        fifo = g.last("notify_fifo") or g.last("vrrp_notify_fifo")
        return GlobalDefs(
            router_id=(rid.args[0] if rid and rid.args else ""),
            vrrp_version=self.integer(g.last("vrrp_version"), 2, 3, 2, False),
            garp_master_refresh=self.integer(g.last("vrrp_garp_master_refresh"), 0, TIMER_MAX_S, 0, signed=False),
            higher_prio_send_advert=self.flag(g.last("vrrp_higher_prio_send_advert")),
            lvs_sync_daemon=tuple(sync.args) if sync else (),
            notify_fifo=(fifo.args[0] if fifo and fifo.args else ""),
            enable_script_security=self.flag(g.last("enable_script_security")),
            default_interface=(g.last("default_interface").args[0] if g.last("default_interface") and
                               g.last("default_interface").args else ""),
        )

    def script(self, b: Block) -> Script | None:
        name = self.arg(b)
        if name is None:
            return None
        cmd = b.last("script")
        weight_line = b.last("weight")
        weight = self.integer(weight_line, -253, 253, int(default("script_weight")))
        reverse = bool(weight_line and len(weight_line.args) > 1 and weight_line.args[1] == "reverse")
        interval = self.integer(b.last("interval"), 0, 4294, 1, signed=False)
        timeout = self.integer(b.last("timeout"), 0, 4294, 0, signed=False)
        command = script_command(cmd) if cmd else ()
        if not command:  # "No script set for vrrp_script X - removing": what tracks it then finds nothing
            self.diag.add((cmd or b).where, f"vrrp_script {name} has no command keepalived can read: it removes the script")
            return None
        return Script(name, command, float(max(interval, 1)),
                      float(max(timeout, 1)) if b.last("timeout") else float(max(interval, 1)),
                      weight, reverse,
                      self.integer(b.last("rise"), 1, 2**31 - 1, 1, signed=False),
                      self.integer(b.last("fall"), 1, 2**31 - 1, 1, signed=False), b.where)

    def tracks(self, block: Block | None, instance: str, scripts: dict[str, Script] | None) -> tuple[Track, ...]:
        """track_script / track_interface / track_file lines: NAME [weight N [reverse|noreverse]]."""
        out: list[Track] = []
        if block is None:
            return ()
        for t in block.children:
            base_weight, base_reverse = 0, False
            if scripts is not None:
                s = scripts.get(t.keyword)
                if s is None:
                    self.diag.add(t.where, f"({instance}) track script {t.keyword} not found (a vrrp_script must come "
                                  "before the instance that tracks it): keepalived ignores it")
                    continue
                base_weight, base_reverse = s.weight, s.reverse
            if any(x.name == t.keyword for x in out):
                self.diag.add(t.where, f"({instance}) duplicate {block.keyword} {t.keyword}: keepalived ignores it")
                continue
            weight, reverse = base_weight, base_reverse
            if t.args:
                if t.args[0] != "weight" or len(t.args) < 2:
                    self.diag.add(t.where, f"({instance}) {block.keyword} {t.keyword}: expected `weight N`; "
                                  "keepalived ignores the line")
                    continue
                n = numbers.integer(t.args[1], -254, 254, True)
                if n.value is None or n.problem:
                    self.diag.add(t.where, f"({instance}) {t.keyword}: weight {t.args[1]} must be in [-253, 253]")
                weight = base_weight if n.value is None else max(-253, min(253, n.value))
                if len(t.args) > 2:
                    if t.args[2] == "reverse":
                        reverse = True
                    elif t.args[2] == "noreverse" and scripts is not None:
                        reverse = False
                    else:
                        self.diag.add(t.where, f"({instance}) {t.keyword}: unknown weight option {t.args[2]}")
            out.append(Track(t.keyword, weight, reverse, t.where))
        return tuple(out)

    def instance(self, b: Block, g: GlobalDefs, scripts: dict[str, Script]) -> Instance | None:
        name = self.arg(b)
        if name is None:
            return None
        vrid_line = b.last("virtual_router_id")
        vrid = self.integer(vrid_line, 1, 255, 0, False, signed=False) or None
        if vrid is None:  # vrrp_complete_instance fails, and with it the VRRP process's whole configuration
            self.diag.add(b.where, f"({name}) has no valid virtual_router_id: keepalived's VRRP process refuses "
                          "the whole configuration and stops", "fatal")
        interface = b.last("interface").args[0] if b.last("interface") and b.last("interface").args else ""
        if not interface and not g.default_interface:  # chk_min_cfg (vrrp.c) runs before unicast is known
            self.diag.add(b.where, f"({name}) Unknown interface!: keepalived 2.2.7 refuses the VRRP configuration "
                          "without an interface, unicast or not: give the instance `interface`", "fatal")
        priority = self.integer(b.last("priority"), 1, 255, int(default("priority")), False, signed=False)
        vips = []
        for v in (v for block in b.all("virtual_ipaddress") for v in block.children):
            try:  # parse_ipaddress (vrrp_ipaddress.c): an address keepalived cannot parse is skipped
                ip_interface(v.keyword)
            except ValueError:
                self.diag.add(v.where, f"({name}) VRRP parsed invalid IP {v.keyword}: keepalived skips it")
                continue
            vips.append(v.keyword.split("/")[0])
        ipv6 = bool(b.all("native_ipv6")) or bool(vips and ":" in vips[0])
        # vrrp_complete_instance (vrrp.c): the instance's own version, else 3 for IPv6, else global_defs'
        version = self.integer(b.last("version"), 2, 3, 0, False) or (3 if ipv6 else g.vrrp_version)
        advert = self.seconds(b.last("advert_int"), 0.01, 255, default("advert_int"))
        # ... and the interval in the units the version sends: whole seconds (v2), centiseconds (v3)
        unit, most = (1.0, 255.0) if version == 2 else (0.01, 40.95)
        sent = min(most, max(unit, math.floor(advert / unit + 0.5) * unit))
        if abs(sent - advert) > 1e-9:
            self.diag.add(b.last("advert_int").where if b.last("advert_int") else b.where,
                          f"({name}) advert_int {advert:g}: VRRPv{version} sends "
                          f"{'whole seconds' if version == 2 else 'centiseconds'}; keepalived uses {sent:g}", "warning")
            advert = round(sent, 2)
        state = "BACKUP"
        for s in b.all("state"):
            word = self.arg(s)
            if word == "MASTER":
                state = "MASTER"
            elif word not in ("BACKUP", None):
                self.diag.add(s.where, f"({name}) unknown state '{word}': keepalived uses BACKUP")
        if priority == 255:
            state = "MASTER"
        peers = tuple(p.keyword for block in b.all("unicast_peer") for p in block.children)
        auth = b.last("authentication")
        auth_pass = auth.last("auth_pass") if auth else None
        src = b.last("unicast_src_ip")
        return Instance(
            name=name, vrid=vrid, interface=interface or g.default_interface,
            priority=priority, state=state, advert_int=advert, version=version, vips=tuple(vips),
            nopreempt=bool(b.all("nopreempt")),
            preempt_delay=self.seconds(b.last("preempt_delay"), 0, 1000, 0.0),
            unicast_peers=peers, unicast_src_ip=(src.args[0] if src and src.args else ""),
            auth_pass=(auth_pass.args[0] if auth_pass and auth_pass.args else ""),
            track_scripts=self.tracks(b.last("track_script"), name, scripts),
            track_interfaces=self.tracks(b.last("track_interface"), name, None),
            track_files=self.tracks(b.last("track_file"), name, None),
            where=b.where,
        )

    # -- LVS -------------------------------------------------------------------------------
    def checkers(self, c: Block, rs: Block, vs: Block, vs_delay: float) -> list[Checker]:
        """A checker's timers: its own, else its real server's, else its virtual server's
        (connect_timeout, delay_loop, retry, delay_before_retry), else the checker kind's
        default (check_data.c, check_api.c). FILE_CHECK and BFD_CHECK poll nothing: no
        timers. SMTP_CHECK makes one checker per `host` block, whose connect_timeout is its
        own or 0 (keepalived zero-fills a host's connection: check_smtp.c), and keeps its
        own only if it sets a connection parameter or has no host."""
        if c.keyword in UNTIMED:
            return [Checker(c.keyword, None, None, None, None, c.where)]

        def pick(key: str) -> Block | None:
            return c.last(key) or rs.last(key) or (vs.last(key) if key != "delay_before_retry" else None)
        timeout = self.seconds(pick("connect_timeout"), 0.000001, 4294, default("connect_timeout"))
        delay = self.seconds(c.last("delay_loop") or rs.last("delay_loop"), 0.000001, TIMER_MAX_S, vs_delay)
        retry_default = RETRY_DEFAULTS.get(c.keyword, int(default("retry")))
        retry = self.integer(pick("retry"), 0, 2**32 - 1, retry_default, signed=False)
        dbr_default = (3.0 if c.keyword in ("HTTP_GET", "SSL_GET") else delay if c.keyword == "DNS_CHECK"
                       else default("delay_before_retry"))
        dbr = self.seconds(c.last("delay_before_retry") or rs.last("delay_before_retry")
                           or vs.last("delay_before_retry"), 0, TIMER_MAX_S, dbr_default)
        main = Checker(c.keyword, timeout, retry, dbr, delay, c.where)
        hosts = c.all("host") if c.keyword == "SMTP_CHECK" else []
        if not hosts:
            return [main]
        out = [main] if any(c.all(k) for k in CONNECTION_KEYWORDS) else []
        for h in hosts:
            own = h.last("connect_timeout")
            out.append(Checker(c.keyword, self.seconds(own, 0.000001, 4294, 0.0) if own else 0.0, retry, dbr, delay,
                               h.where))
        return out

    def virtual_server(self, vs: Block) -> VirtualServer | None:
        if not vs.args:
            self.diag.add(vs.where, "virtual_server without an address: keepalived ignores it")
            return None
        fwmark, group, ip, port = None, "", "", 0
        if vs.args[0] == "fwmark":
            fwmark = self.integer(Block("fwmark", vs.args[1:2], where=vs.where), 1, 2**32 - 1, 0, False, signed=False)
        elif vs.args[0] == "group":
            group = vs.args[1] if len(vs.args) > 1 else ""
        else:
            ip = vs.args[0]
            port = self.integer(Block("port", vs.args[1:2], where=vs.where), 0, 65535, 0, False, signed=False) \
                if len(vs.args) > 1 else 0
        delay = self.seconds(vs.last("delay_loop"), 0.000001, TIMER_MAX_S, default("delay_loop"))
        weight = self.integer(vs.last("weight"), -2**31, 2**31 - 1, 1)
        reals = []
        for rs in vs.all("real_server"):
            if not rs.args:
                self.diag.add(rs.where, "real_server without an address: keepalived ignores it")
                continue
            rport = self.integer(Block("port", rs.args[1:2], where=rs.where), 0, 65535, port, False, signed=False) \
                if len(rs.args) > 1 else port
            reals.append(RealServer(rs.args[0], rport, self.integer(rs.last("weight"), -2**31, 2**31 - 1, weight),
                                    tuple(x for c in rs.children if c.keyword in CHECKERS
                                          for x in self.checkers(c, rs, vs, delay)),
                                    rs.where))
        algo = vs.last("lb_algo") or vs.last("lvs_sched")
        kind = vs.last("lb_kind") or vs.last("lvs_method")
        proto = vs.last("protocol")
        persistence = vs.last("persistence_timeout")
        return VirtualServer(
            ip, port, (proto.args[0].upper() if proto and proto.args else "TCP"),
            (algo.args[0] if algo and algo.args else "wlc"), (kind.args[0].upper() if kind and kind.args else "NAT"),
            (self.integer(persistence, 1, 2**32 - 1, 0, signed=False) if persistence and persistence.args else
             (360 if persistence else 0)),
            delay, tuple(reals), fwmark, group, vs.where)


def from_tree(root: Block, diag: Diagnostics, files: list[str] | None = None) -> Config:
    """The typed configuration of a block tree (its problems added to `diag`)."""
    r = _Read(diag)
    g = r.global_defs(root)
    scripts: dict[str, Script] = {}
    instances: list[Instance] = []
    groups: list[SyncGroup] = []
    # keepalived reads in order: a script is known to the instances after it
    for b in root.children:
        if b.keyword == "vrrp_script":
            s = r.script(b)
            if s is not None:
                scripts[s.name] = s
        elif b.keyword == "vrrp_instance":
            inst = r.instance(b, g, scripts)
            if inst is not None:
                instances.append(inst)
        elif b.keyword == "vrrp_sync_group" and b.args:
            members = tuple(m.keyword for block in b.all("group") for m in block.children)
            groups.append(SyncGroup(b.args[0], members, b.where,
                                    bool(b.all("sync_group_tracking_weight") or b.all("global_tracking"))))
    by_name = {i.name: i for i in instances}
    for sg in groups:
        for m in sg.members:
            if m not in by_name:
                diag.add(sg.where, f"vrrp_sync_group {sg.name}: no vrrp_instance {m}")
            else:
                by_name[m] = replace(by_name[m], sync_group=sg.name)
    tracking = {sg.name: sg.tracking_weight for sg in groups}
    instances = [_unweighted(by_name[i.name], tracking, diag) for i in instances]
    ids: dict[tuple[str, int | None], Instance] = {}
    for i in instances:
        if i.vrid is not None and (i.interface, i.vrid) in ids:
            diag.add(i.where, f"({i.name}) VRID {i.vrid} on {i.interface} is also {ids[(i.interface, i.vrid)].name}'s: "
                     "give each instance on an interface its own virtual_router_id")
        ids[(i.interface, i.vrid)] = i
    vs_groups = {b.args[0]: tuple(" ".join([e.keyword, *e.args]) for e in b.children)
                 for b in root.all("virtual_server_group") if b.args}
    virtual = [vs for vs in (r.virtual_server(b) for b in root.all("virtual_server")) if vs is not None]
    for vs in virtual:
        if vs.group and vs.group not in vs_groups:
            diag.add(vs.where, f"virtual_server group {vs.group}: no virtual_server_group {vs.group} (keepalived -t "
                     "says nothing; the virtual server has no address to serve)", "warning")
    return Config(g, scripts, [i for i in instances if i.vrid is not None], groups, virtual, vs_groups, root,
                  files or [], diag, bool(root.all("vrrp_track_process")))


def _unweighted(inst: Instance, tracking: dict[str, bool], diag: Diagnostics) -> Instance:
    """vrrp_complete_instance (vrrp.c): a sync group's member (unless the group sets
    sync_group_tracking_weight) and an address owner (priority 255) take no weighted
    tracks: weighted scripts are dropped, weighted interfaces tracked with weight 0 (the
    owner drops them), so a failure puts the instance, and its group, in FAULT."""
    sync = bool(inst.sync_group) and not tracking.get(inst.sync_group, False)
    if not sync and inst.priority != 255:
        return inst
    why = "its sync group" if sync else "address owner (priority 255)"
    dropped = [t.name for t in (*inst.track_scripts, *inst.track_interfaces) if t.weight]
    if dropped:
        diag.add(inst.where, f"({inst.name}) ignoring the weights of {', '.join(dropped)} due to {why}: a failure "
                 "puts the instance in FAULT instead", "warning")
    interfaces = tuple(replace(t, weight=0) if t.weight and sync else t for t in inst.track_interfaces
                       if sync or not t.weight)
    return replace(inst, track_scripts=tuple(t for t in inst.track_scripts if not t.weight),
                   track_interfaces=interfaces)
