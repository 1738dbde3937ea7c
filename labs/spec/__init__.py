"""The data a topology declares: hosts, VRRP instances, virtual servers, timers.

Everything the lab renders or measures is derived from one `LabSpec`, so a number such as
a priority or a timer lives in exactly one place (the topology module).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from ipaddress import IPv4Interface, IPv4Network

from labs.common.errors import LabError


@dataclass(frozen=True)
class Host:
    """One Mininet host: its role decides which daemons it runs."""

    name: str
    ip: str
    role: str  # "director" | "real_server" | "client"
    extra_ips: tuple[str, ...] = ()

    @property
    def source_ips(self) -> tuple[str, ...]:
        """Addresses a client can send from (its own first, then the extra ones)."""
        return (self.ip, *self.extra_ips)


@dataclass(frozen=True)
class VrrpInstance:
    """A VRRP instance shared by the hosts listed in `priorities` (highest is MASTER)."""

    name: str
    vrid: int
    vip: str
    auth_pass: str
    priorities: tuple[tuple[str, int], ...]
    # Hosts whose `state` keyword is forced (the seed's LVS2 says BACKUP for both).
    state_override: tuple[tuple[str, str], ...] = ()
    # Hosts configured `nopreempt` (a lab file's): once another holds the VIP they leave it there.
    nopreempt: tuple[str, ...] = ()
    # keepalived's preempt_delay (s, every host of the instance): a backup that hears a lower priority
    # takes over only that long after. keepalived ignores it with state MASTER: every host starts BACKUP.
    preempt_delay: float = 0.0

    @property
    def master(self) -> str:
        """The host the configuration intends to hold the VIP."""
        return max(self.priorities, key=lambda hp: hp[1])[0]

    def priority(self, host: str) -> int:
        return dict(self.priorities)[host]

    def state(self, host: str) -> str:
        forced = dict(self.state_override)
        if host in forced:
            return forced[host]
        return "MASTER" if host == self.master and not self.preempt_delay else "BACKUP"

    @property
    def hosts(self) -> tuple[str, ...]:
        return tuple(h for h, _ in self.priorities)


@dataclass(frozen=True)
class RealServer:
    ip: str
    port: int = 80
    weight: int = 1


@dataclass(frozen=True)
class VirtualServer:
    vip: str
    port: int
    lb_algo: str
    real_servers: tuple[RealServer, ...]
    lb_kind: str = "DR"
    protocol: str = "TCP"


@dataclass(frozen=True)
class HostFiles:
    """A host's files from a lab file (labs.spec.labfile): its keepalived.conf as written and the
    scripts it calls; `changes` lists what the loader already changed (includes inlined,
    --set values); the daemon adds what living in the lab needs."""

    host: str
    keepalived: str  # absolute path of the config as written
    scripts: tuple[str, ...] = ()  # absolute paths
    changes: tuple[str, ...] = ()
    text: str = ""  # the config's text after those changes
    config_id: str | None = None  # keepalived's -i: which `@ID` lines of the config apply (the lab passes it)


@dataclass(frozen=True)
class Timers:
    """The seed's timers (its choices, not its mistakes)."""

    advert_int: float = 1.0
    vrrp_version: int = 2
    script_interval: float = 3.0
    script_fall: int = 1
    script_rise: int = 1
    script_weight: int = -30  # seed: +1, which can never move a VIP
    restart_wait: float = 5.0  # the seed's check script sleeps 5 s after restarting nginx
    delay_loop: float = 6.0
    connect_timeout: float = 2.0
    retry: int = 2
    delay_before_retry: float = 3.0
    persistence_timeout: int = 5
    # Gratuitous ARP from a MASTER, re-sent every N s (keepalived's vrrp_garp_master_refresh;
    # 0: never, keepalived's default). Bounds how long clients can keep a yielded master's
    # MAC after two masters existed at once (see topologies/dual_master.py).
    garp_master_refresh: int = 0
    # keepalived's vrrp_higher_prio_send_advert: a yielding master sends one more advert
    # so that the winner hears a lower priority and re-sends its GARPs.
    higher_prio_send_advert: bool = False
    # keepalived's lvs_sync_daemon on the directors (global_defs), bound to the first LVS
    # instance: the director that is MASTER for it sends its IPVS connection table to the
    # other, so connections can survive a failover (scenarios/director_failover.py).
    lvs_sync_daemon: bool = False
    # its `maxlen` (bytes per sync message; 0: keepalived's and the kernel's default, the
    # interface's MTU): the kernel sends a partly filled message only after ~2 s, a full one
    # at once, so a small maxlen sends each connection's first sync message sooner.
    lvs_sync_maxlen: int = 0
    # lvs_sync_daemon bound to no VRRP instance: keepalived runs both sync daemons, master
    # and backup, on every director for as long as it runs, so each director sends its own
    # connections and learns the other's (a dual-master pair needs this: bound to VI_1,
    # only VI_1's master sends).
    lvs_sync_both: bool = False
    # The kernel's sync sysctls on the directors (net.ipv4.vs.*, Documentation/networking/
    # ipvs-sysctl.rst), the kernel's defaults unless set: a connection is synced when its
    # incoming packets modulo sync_period equal sync_threshold (and on TCP state changes
    # past ESTABLISHED); sync_refresh_period (s, 0: off) skips re-syncing a connection
    # whose state and timer have not changed by that much.
    ipvs_sync_threshold: int = 3
    ipvs_sync_period: int = 50
    ipvs_sync_refresh_period: int = 0

    @property
    def script_timeout(self) -> float:
        """The check script sleeps `restart_wait` and starts ~10 processes (0.3-0.4 s each
        under User-mode Linux); keepalived must never kill it half-way."""
        return self.restart_wait + 10.0

    def with_settings(self, settings: dict[str, str]) -> "Timers":
        """These timers with some changed by name (`--set advert_int=0.5`), each value read
        as its field's type; an unknown name or a bad value is one LabError naming the fix."""
        known = {f.name: f for f in fields(self)}
        changed: dict[str, object] = {}
        for name, text in settings.items():
            if name not in known:
                raise LabError(f"--set {name}=...: no such setting; the settings are: {', '.join(known)}")
            kind = type(getattr(self, name))
            try:
                value = (text.lower() in ("1", "true", "yes", "on")) if kind is bool else kind(text)
            except ValueError:
                raise LabError(f"--set {name}={text}: {name} takes a number like {getattr(self, name)!r}") from None
            if kind is not bool and value < 0:
                raise LabError(f"--set {name}={text}: give a value of 0 or more")
            changed[name] = value
        return replace(self, **changed)


@dataclass(frozen=True)
class LabSpec:
    """A whole lab: what `topologies/<name>.py` returns."""

    name: str
    subnet: str
    interface: str
    hosts: tuple[Host, ...]
    director_instances: tuple[VrrpInstance, ...]
    server_instances: tuple[VrrpInstance, ...]
    virtual_servers: tuple[VirtualServer, ...]
    timers: Timers = field(default_factory=Timers)
    router_ids: tuple[tuple[str, str], ...] = ()
    description: str = ""
    variant: str = "default"
    checker_retry_keyword: str = "retry"  # keepalived 1.x's nb_get_retry in the seed
    arp_sysctls: bool = True  # arp_ignore=1/arp_announce=2 on the DR real servers
    script_stops_keepalived: bool = True  # the seed's check script stops keepalived when nginx stays down
    config_errors_ok: bool = False  # run configs keepalived -t flags as erroneous-but-runnable (exit 5)
    # IPVS on the directors: expire (and reschedule) a connection whose real server is gone
    # instead of silently dropping its packets (see topologies/dual_master.py)
    expire_nodest_conn: bool = True
    unicast: bool = False  # VRRP adverts to each peer's address (unicast_peer) instead of the multicast group
    files: tuple[HostFiles, ...] = ()  # a lab file's configs as written (empty: rendered from this spec)

    @property
    def prefixlen(self) -> int:
        return IPv4Network(self.subnet).prefixlen

    def host(self, name: str) -> Host:
        for h in self.hosts:
            if h.name == name:
                return h
        raise KeyError(name)

    def role(self, role: str) -> tuple[Host, ...]:
        return tuple(h for h in self.hosts if h.role == role)

    @property
    def directors(self) -> tuple[Host, ...]:
        return self.role("director")

    @property
    def real_servers(self) -> tuple[Host, ...]:
        return self.role("real_server")

    @property
    def client(self) -> Host:
        (client,) = self.role("client")
        return client

    def instances_of(self, host: str) -> tuple[VrrpInstance, ...]:
        return tuple(
            i for i in (*self.director_instances, *self.server_instances) if host in i.hosts
        )

    def files_of(self, host: str) -> HostFiles | None:
        """The host's files as written, if the lab comes from a lab file."""
        return next((f for f in self.files if f.host == host), None)

    @property
    def from_lab_file(self) -> bool:
        return bool(self.files)

    def runs_check_script(self, host: str) -> bool:
        """A real server whose keepalived runs a check script (the one that restarts nginx
        in the built-in topologies; a lab file's, if it lists scripts)."""
        if self.host(host).role != "real_server":
            return False
        files = self.files_of(host)
        return not self.from_lab_file or (files is not None and bool(files.scripts))

    def runs_keepalived(self, host: str) -> bool:
        """Directors and real servers do, but a lab file's real server without a keepalived.conf."""
        if self.host(host).role == "client":
            return False
        return not self.from_lab_file or self.files_of(host) is not None

    def router_id(self, host: str) -> str:
        return dict(self.router_ids).get(host, host)

    @property
    def needs_ipvs(self) -> bool:
        """Only directors' virtual servers need the kernel's IPVS (which decides where the
        lab can run: labs.kernel)."""
        return bool(self.virtual_servers)

    @property
    def client_vips(self) -> tuple[str, ...]:
        """What the client probes: the virtual servers' VIPs, or in a lab without directors
        (one tier of VRRP, as a lab file may describe) its VRRP VIPs."""
        return self.lvs_vips or tuple(i.vip for i in self.server_instances)

    def answerers(self, vip: str) -> tuple[str, ...]:
        """The hosts that should answer HTTP to `vip` when converged: every real server
        behind a virtual server, or the master of a plain VRRP VIP."""
        if vip in self.lvs_vips:
            return tuple(h.name for h in self.real_servers)
        return tuple(i.master for i in self.server_instances if i.vip == vip)

    @property
    def lvs_vips(self) -> tuple[str, ...]:
        """Addresses clients connect to (the directors' VIPs)."""
        return tuple(vs.vip for vs in self.virtual_servers)

    def interface_address(self, ip: str) -> str:
        """`ip/prefix` on the lab subnet, as `ip addr add` wants it."""
        return str(IPv4Interface(f"{ip}/{self.prefixlen}"))

    def validate(self) -> None:
        """Catch contradictions in the data before anything is built."""
        net = IPv4Network(self.subnet)
        names = [h.name for h in self.hosts]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: duplicate host names in {names}")
        addresses = [a for h in self.hosts for a in h.source_ips]
        vips = [i.vip for i in (*self.director_instances, *self.server_instances)]
        for a in (*addresses, *vips):
            if IPv4Interface(f"{a}/32").ip not in net:
                raise ValueError(f"{self.name}: {a} is outside {self.subnet}")
        clash = set(addresses) & set(vips)
        if clash:
            raise ValueError(f"{self.name}: VIPs {sorted(clash)} are also host addresses")
        for inst in (*self.director_instances, *self.server_instances):
            for h in inst.hosts:
                if h not in names:
                    raise ValueError(f"{self.name}: {inst.name} names unknown host {h}")
