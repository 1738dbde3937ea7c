"""The timing model, computed from the rendered configuration files of a run.

The analysis reads `configs/<host>/keepalived.conf` (and the check scripts' wait: `sleep N`
before the verdict, `kill -TERM` of keepalived, in any `*.sh` beside it) back,
so its expectations describe the files keepalived actually ran, not the data they came
from. Each window is [earliest, latest]: the protocol's own delay, plus a tolerance.

Tolerance = LATENCY + what the path must start. LATENCY (0.25 s) covers signal delivery,
keepalived's event loop, the netlink/FIFO reader waking up and the probe's grid (UML's
VRRP timing was measured accurate to ~0.15 s, docs/design-notes.md). Starting things is measured in the run
itself (run.json): `process_start_s`, the median cost of starting a process in a lab host
(~1 ms natively, ~0.09 s under UML for a small one), times the processes a path starts
(the check script runs ~10: sh, cat, grep, nginx, sleep, ...); and `keepalived_start_s`,
the longest time any keepalived took at bring-up from exec to its first VRRP notification
(~0.5 s under UML), reported for reference: a path that restarts keepalived is timed
from the restarted daemon's own first notification instead.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from labs import kaconfig

from labs.spec import sysctls

from labs.spec import timing
from labs.analysis.expectations import LATENCY, Checker, Clients, Connections, Expectation, Move, Ready, Stay, Window

if TYPE_CHECKING:
    from labs.plan.scenario import Scenario

# The kernel's IPVS sync (net/netfilter/ipvs/ip_vs_sync.c, include/net/ip_vs.h): the master
# queues a sync message for a TCP connection once it is ESTABLISHED and has received
# sync_threshold packets (default 3: SYN, ACK and the first request, in DR mode the director
# sees only the client's side); a full buffer (maxlen, the MTU by default) goes out at once,
# a partly filled one once it is IPVS_SYNC_FLUSH_TIME (2 s) old, which the sync thread checks
# every IPVS_SYNC_CHECK_PERIOD (1 s). Messages still queued when the master daemon stops are
# dropped. So the backup knows every connection at most 3 s after its first request. How
# much sooner depends on the other traffic filling the buffers (measured, docs/benchmarks.md): with
# persistence every packet of a connection also re-syncs its persistence template (templates
# skip the sync_period rule unless sync_refresh_period is set), so they fill at once.
SYNC_FLUSH_S = 2.0
SYNC_CHECK_S = 1.0


@dataclass(frozen=True)
class Instance:
    name: str
    vip: str
    priorities: dict[str, int]
    advert_int: float
    version: int
    unicast: bool = False  # adverts to unicast_peer addresses, not to the multicast group
    preempt_delay: tuple[tuple[str, float], ...] = ()  # host -> its preempt_delay (s), where set
    nopreempt: frozenset[str] = frozenset()  # hosts configured nopreempt: once backup, they stay backup

    @property
    def master(self) -> str:
        return max(self.priorities, key=self.priorities.__getitem__)

    def best_other(self, without: str) -> str:
        others = {h: p for h, p in self.priorities.items() if h != without}
        return max(others, key=others.__getitem__)

    def skew(self, host: str) -> float:
        return timing.skew_time(self.priorities[host], self.advert_int, self.version)

    def master_down(self, host: str) -> float:
        return timing.master_down_interval(self.priorities[host], self.advert_int, self.version)


@dataclass
class Model:
    instances: dict[str, Instance]  # keyed by VIP
    script_interval: float
    restart_wait: float
    process_start: float
    keepalived_start: float
    directors: tuple[str, ...] = ()
    checker: dict[str, float] | None = None
    script_weight: int = 0
    script_fall: int = 1
    script_stops_keepalived: bool = False
    persistence: dict[str, float] | None = None  # LVS VIP -> persistence_timeout (0: off)
    real_servers: dict[str, tuple[str, ...]] | None = None  # LVS VIP -> its real servers' addresses
    garp_refresh: float = 0.0  # vrrp_garp_master_refresh (0: a master never re-sends its GARPs)
    addresses: dict[str, str] | None = None  # host -> its own address (run.json's hosts)
    script_rise: int = 1  # passing runs of a failed check script before its weight is lifted
    sync: dict[str, str] | None = None  # director -> the VRRP instance its lvs_sync_daemon follows
    sync_threshold: int = 3  # net.ipv4.vs.sync_threshold's first number (the lab's sysctl.conf record)

    @property
    def lvs_vips(self) -> tuple[str, ...]:
        """The addresses clients connect to (the directors' virtual servers)."""
        return tuple(sorted(self.real_servers or {})) or tuple(sorted(self.instances))  # no LVS: the VRRP VIPs

    def tolerance(self, spawns: int) -> float:
        return LATENCY + spawns * self.process_start

    def instances_mastered_by(self, host: str) -> list[Instance]:
        return [i for i in self.instances.values() if i.master == host]

    def graceful(self, inst: Instance, stopped: str, spawns: int = 1) -> tuple[str, Window]:
        """keepalived stopped on the master: a priority-0 advert, then the best backup
        takes over after its skew time."""
        to = inst.best_other(stopped)
        skew = inst.skew(to)
        return to, Window(skew, skew + self.tolerance(spawns),
                          f"graceful stop: skew time of {to} (256-{inst.priorities[to]})/256 = {skew:.3f} s")

    def silent(self, inst: Instance, lost: str, spawns: int = 0) -> tuple[str, Window]:
        """The master vanished without a priority-0 advert (crash, link loss, adverts
        blocked): the best backup takes over a master-down interval after the last advert
        it heard, which came up to one advert interval before the fault."""
        to = inst.best_other(lost)
        mdi = inst.master_down(to)
        return to, Window(mdi - inst.advert_int, mdi + self.tolerance(spawns),
                          f"silent loss: master-down interval of {to} 3x{inst.advert_int:g}+skew = {mdi:.3f} s "
                          f"after its last advert (0-{inst.advert_int:g} s before the fault)")

    def preempt(self, inst: Instance, started: str) -> Window:
        """keepalived on the configured master is back (restarted, or its link restored):
        it starts in BACKUP, ignores the lower-priority adverts and takes over after its
        own master-down interval — with preempt_delay, only once that many seconds have
        passed since it started (or saw the lower priority), then a master-down interval.
        For a restart the window counts from the restarted daemon's first VRRP
        notification (see Move.after_restart_of)."""
        mdi = inst.master_down(started)
        delay = dict(inst.preempt_delay).get(started, 0.0)
        if delay:
            return Window(max(mdi, delay), delay + mdi + self.tolerance(0),
                          f"preemption after preempt_delay {delay:g} s, then within the master-down interval of "
                          f"{started} 3x{inst.advert_int:g}+skew = {mdi:.3f} s")
        return Window(mdi, mdi + self.tolerance(0),
                      f"preemption: master-down interval of {started} 3x{inst.advert_int:g}+skew = {mdi:.3f} s")

    def check_passes_again(self, inst: Instance, host: str) -> Window:
        """A failed check script of `host` passes again (what it checks was restored): its
        priority comes back after `rise` passing runs, one script interval apart, and it
        preempts as in `preempt` — but its master-down timer has run since the last advert
        it accepted (up to one advert interval before its priority rose: measured natively,
        1.48 s against a 1.78 s interval)."""
        p, rise = self.preempt(inst, host), self.script_interval * self.script_rise
        return Window(max(0.0, p.earliest - inst.advert_int), rise + p.latest + self.tolerance(1),
                      f"the check passes again within {self.script_rise} x {self.script_interval:g} s, then {p.basis} "
                      f"(its timer running since the last advert it accepted, up to {inst.advert_int:g} s before)")

    def yields(self, inst: Instance, spawns: int = 0) -> Window:
        """Two masters hear each other again (after the healing's `spawns` process starts):
        the lower priority yields on the first advert it hears."""
        return Window(0.0, inst.advert_int + self.tolerance(spawns),
                      f"adverts heard again: the lower priority yields within one advert interval ({inst.advert_int:g} s)")

    def after_two_masters(self, inst: Instance, release: Window, otherwise: Window | None = None) -> Window:
        """When clients of a VIP that two masters held are whole again, given the window in
        which the duplicate is released. With vrrp_garp_master_refresh R every master re-sends
        its GARPs each R s, so clients follow whichever sent last and may keep the released
        host's MAC for up to R s after the release. Without it the winner re-sends GARPs only
        when it hears a lower-priority advert (`otherwise`: when that happens); with neither,
        clients that last saw the loser's GARP keep its MAC until their ARP entry expires,
        which keepalived does not bound: the window ends at the release and a stale-ARP
        outage fails it."""
        if self.garp_refresh:
            return Window(0.0, release.latest + self.garp_refresh,
                          f"released ({release.basis}), then the winner's next GARP refresh within "
                          f"vrrp_garp_master_refresh {self.garp_refresh:g} s")
        if otherwise is not None:
            return otherwise
        return Window(0.0, release.latest, f"released ({release.basis}); nothing makes the winner re-send its "
                      f"GARPs (no vrrp_garp_master_refresh, and it hears no lower priority)")

    def while_two_masters(self, takeover: Window) -> Window:
        """Clients of a VIP held twice, until the phase ends: each master's GARP refresh moves
        them to it, breaking connections in flight, so with vrrp_garp_master_refresh the model
        bounds nothing until one yields (still failing at the end fails); without it clients
        move once, at the new master's GARPs."""
        if self.garp_refresh:
            return Window(0.0, math.inf, f"two masters re-send GARPs every {self.garp_refresh:g} s: clients move "
                          "at each, no bound until one yields")
        return Window(0.0, takeover.latest, f"the new master's GARPs at takeover: {takeover.basis}")

    def affected_vips(self, vip: str) -> tuple[str, ...]:
        """The LVS VIPs whose clients a change of `vip` touches: itself if clients connect to
        it, else (a real server's VIP) every virtual server that balances onto it."""
        if vip in self.lvs_vips:
            return (vip,)
        return tuple(v for v, servers in sorted((self.real_servers or {}).items()) if vip in servers)

    def clients_after(self, vip: str, phase: str, window: Window, why: str = "", after_restart_of: str = "",
                      judged: bool = True) -> list[Expectation]:
        """Client expectations for every LVS VIP a change of `vip` touches: whole again by
        the latest time the model gives that change (`judged` False: measured only)."""
        w = Window(0.0, window.latest, why or window.basis)
        return [Clients(phase, v, w, after_restart_of, judged) for v in self.affected_vips(vip)]

    def away_and_back(self, inst: Instance, host: str, to: str, takeover: Window, restarted: bool) -> list[Expectation]:
        """The master `host` loses `inst`'s VIP to `to` within `takeover` (its clients whole
        by then), and takes it back by preemption once healed (counted from its restarted
        keepalived's first notification if the heal restarts it)."""
        if host in inst.nopreempt:
            return [Move("inject", inst.name, inst.vip, host, to, takeover),
                    *self.clients_after(inst.vip, "inject", takeover, f"the backup's GARPs at takeover: {takeover.basis}"),
                    *self.stays_after_heal(inst, to, host)]
        back = self.preempt(inst, host)
        anchor = host if restarted else ""
        return [Move("inject", inst.name, inst.vip, host, to, takeover),
                Move("heal", inst.name, inst.vip, to, host, back, after_restart_of=anchor),
                *self.clients_after(inst.vip, "inject", takeover, f"the backup's GARPs at takeover: {takeover.basis}"),
                *self.clients_after(inst.vip, "heal", back, f"the master's GARPs when it takes over again: {back.basis}",
                                    after_restart_of=anchor)]

    def returning(self, inst: Instance, host: str, takeover: Window, refused: bool) -> list[Expectation]:
        """The director `host`, cut off from its real servers during the fault (`refused`:
        its connects fail at once, as with its link down; else they time out), is again the
        one clients of `inst`'s VIP reach within `takeover` after the heal; its checkers may
        have emptied its IPVS table meanwhile (see Ready)."""
        if host not in self.directors or not self.checker or inst.vip not in (self.real_servers or {}):
            return []
        return [Ready("heal", host, inst.name, inst.vip, self.checker_down(refused).earliest, self.checker_up(), takeover)]

    def stays_after_heal(self, inst: Instance, holder: str, healed: str) -> list[Expectation]:
        """The healed master is configured nopreempt: the VIP stays on `holder`, its clients
        untouched by the heal (observed past when it would have preempted)."""
        return [Stay("heal", inst.name, inst.vip, holder, self.preempt(inst, healed)),
                *self.clients_after(inst.vip, "heal", self.unaffected(),
                                    f"nopreempt: the healed host stays backup, {inst.vip} stays on {holder}")]

    def sync_master(self) -> str | None:
        """The director whose IPVS sync daemon runs as master (the master of the instance
        lvs_sync_daemon follows), or None without lvs_sync_daemon."""
        for host, name in sorted((self.sync or {}).items()):
            for inst in self.instances.values():
                if inst.name == name and host in inst.priorities:
                    return inst.master
        return None

    def sync_roles(self, host: str) -> set[str]:
        """The IPVS sync daemons keepalived runs on `host` at steady state: bound to an
        instance, "master" on that instance's master and "backup" on the others; bound to
        none, both on every director that has lvs_sync_daemon."""
        if host not in (self.sync or {}):
            return set()
        name = (self.sync or {})[host]
        if not name:
            return {"master", "backup"}
        master = next((i.master for i in self.instances.values() if i.name == name and host in i.priorities), None)
        return {"master"} if master == host else {"backup"}

    def connections_failover(self, inst: Instance, lost: str, to: str, phase: str = "inject",
                             syncing_s: float = 0.0, takeover: Window | None = None) -> Connections:
        """Connections through `inst`'s VIP when `lost`, its master, fails and `to` takes over:
        they survive only if `to` learnt them from `lost`'s sync daemon, which the kernel
        guarantees for connections older than its flush bound (see SYNC_FLUSH_S); without
        sync `to` has no entry for them and answers their next packet with a reset.
        `syncing_s`: how long `lost`'s kernel surely goes on syncing after the fault (a
        crashed keepalived leaves its sync daemon running until `to` takes over).
        `takeover`: when `to` has the VIP. A request lost meanwhile waits for TCP's
        retransmissions, whose intervals double, so the first one after the takeover comes
        at most twice its latest time after the fault: the phase is observed that long, so
        that a connection's fate is never cut off by the phase's end."""
        observe = 2 * takeover.latest + LATENCY if takeover is not None and takeover.bounded else 0.0
        synced = "master" in self.sync_roles(lost) and "backup" in self.sync_roles(to)
        if synced and self.sync_threshold > 3:
            return Connections(phase, inst.vip, "measured", 0.0,
                               f"lvs_sync_daemon with sync_threshold {self.sync_threshold}: a connection's first sync "
                               "message waits for that many packets, which the model does not time", observe)
        if synced:
            bound = max(0.0, SYNC_FLUSH_S + SYNC_CHECK_S + LATENCY - syncing_s)
            later = f"; its kernel syncs on for {syncing_s:.2f} s after the fault" if syncing_s else ""
            return Connections(phase, inst.vip, "survive", round(bound, 3),
                               f"lvs_sync_daemon: {to} knows a connection at most {SYNC_FLUSH_S:g}+{SYNC_CHECK_S:g} s "
                               f"after its first request (partly filled sync buffers flushed after {SYNC_FLUSH_S:g} s, "
                               f"checked every {SYNC_CHECK_S:g} s) + {LATENCY:g} s{later}; younger ones measured",
                               observe)
        why = ("no lvs_sync_daemon" if not self.sync else f"{lost} runs no master sync daemon"
               if "master" not in self.sync_roles(lost) else f"{to} runs no backup sync daemon")
        return Connections(phase, inst.vip, "break", 0.0,
                           f"{why}: {to} has no IPVS entry for them and resets their next packet", observe)

    def connections_untouched(self, vip: str, phase: str) -> Connections:
        return Connections(phase, vip, "survive", 0.0, "not touched by this fault")

    def direct_real_server(self, host: str) -> str:
        """The host's own address if a virtual server balances onto it (a real server that
        runs no VRRP of its own, as in a plain LVS pair), else ''."""
        ip = (self.addresses or {}).get(host, "")
        return ip if any(ip in servers for servers in (self.real_servers or {}).values()) else ""

    def checker_removes(self, host: str, why: str, refused: bool = False) -> list[Expectation]:
        """A real server reached at its own address stops answering (`refused`: nothing
        listens): every director's checker removes it, its clients whole again by then;
        the next check re-adds it."""
        ip = self.direct_real_server(host)
        if not ip:
            return []
        down = self.checker_down(refused)
        return [Checker("inject", f"{ip}:80", "DOWN", self.directors, down),
                *self.clients_after(ip, "inject", down, f"{why}: clients sent to {ip} fail until every director's "
                                    f"checker removes it: {down.basis}"),
                Checker("heal", f"{ip}:80", "UP", self.directors, self.checker_up())]

    def unaffected(self) -> Window:
        """A VIP the fault does not touch: no failure beyond the latency allowance."""
        return Window(0.0, self.tolerance(0), "not touched by this fault: no failure past the latency allowance")

    def checker_down(self, refused: bool = False) -> Window:
        """A real server that silently stops answering: the next check starts within
        delay_loop; it and its retries each wait connect_timeout, with delay_before_retry
        between them, before the checker removes it. `refused`: nothing listens any more
        (nginx dead), each connect fails at once with a reset, so only the delays remain."""
        c = self.checker
        timeout = 0.0 if refused else c["connect_timeout"]
        detect = timing.checker_detect(timeout, int(c["retry"]), c["delay_before_retry"])
        connects = "refused at once" if refused else f"of {c['connect_timeout']:g} s"
        return Window(detect, c["delay_loop"] + detect + self.tolerance(0),
                      f"TCP_CHECK: within delay_loop {c['delay_loop']:g} s, then {c['retry'] + 1} connects "
                      f"{connects} with {c['delay_before_retry']:g} s between = {detect:g} s")

    def checker_up(self) -> Window:
        """A removed real server answering again is re-added by the next check, which
        starts within delay_loop (one that was waiting on a dropped connect first times out)."""
        c = self.checker
        return Window(0.0, c["delay_loop"] + c["connect_timeout"] + self.tolerance(0),
                      f"TCP_CHECK: next check within delay_loop {c['delay_loop']:g} s "
                      f"(+ connect_timeout {c['connect_timeout']:g} s)")


def load(results: Path, info: dict[str, float]) -> Model:
    """Read every host's keepalived.conf (and check script) under results/configs/, as
    keepalived reads it (labs.kaconfig, with the host's config id from run.json)."""
    instances: dict[str, dict] = {}
    interval, restart_wait, weight, fall, rise, stops = 0.0, 0.0, 0, 1, 1, False
    directors: list[str] = []
    checker: dict[str, float] = {}
    persistence: dict[str, float] = {}
    real_servers: dict[str, tuple[str, ...]] = {}
    refresh = 0.0
    sync: dict[str, str] = {}
    threshold = 3
    hosts: dict = info.get("hosts", {})  # type: ignore[assignment]
    for conf in sorted((results / "configs").glob("*/keepalived.conf")):
        host = conf.parent.name
        config = kaconfig.read(conf, hosts.get(host, {}).get("config_id"))
        for inst in config.instances:
            if not inst.vips:
                continue
            entry = instances.setdefault(inst.vips[0], {"name": inst.name, "priorities": {}, "unicast": False,
                                                        "advert_int": inst.advert_int, "version": inst.version,
                                                        "preempt_delay": {}, "nopreempt": set()})
            entry["unicast"] = entry["unicast"] or bool(inst.unicast_peers)
            entry["priorities"][host] = inst.priority
            if inst.preempt_delay:
                entry["preempt_delay"][host] = inst.preempt_delay
            if inst.nopreempt:
                entry["nopreempt"].add(host)
        g = config.global_defs
        refresh = max(refresh, float(g.garp_master_refresh))
        if g.lvs_sync_daemon:
            words = [w for w in g.lvs_sync_daemon[1:] if w != "inst"]
            sync[host] = words[0] if words and words[0] not in ("id", "maxlen", "port", "ttl", "group") else ""
        for vs in config.virtual_servers:
            if host not in directors:
                directors.append(host)
            persistence[vs.ip] = float(vs.persistence_timeout)
            real_servers[vs.ip] = tuple(rs.ip for rs in vs.real_servers)
            for rs in vs.real_servers:
                found = [c for c in rs.checkers if c.kind in ("TCP_CHECK", "HTTP_GET", "SSL_GET")]
                if found:  # another checker (MISC_CHECK, ...): not modelled, its figures measured only
                    c = found[0]
                    checker = {"delay_loop": c.delay_loop, "connect_timeout": c.connect_timeout, "retry": c.retry,
                               "delay_before_retry": c.delay_before_retry}
        for script in config.scripts.values():
            interval = max(interval, script.interval)
            weight, fall, rise = script.weight, script.fall, script.rise
        record = conf.parent / sysctls.RECORD
        if record.exists():
            threshold = max(threshold, int(sysctls.read(record.read_text()).get("net.ipv4.vs.sync_threshold", 3)))
        for check in sorted(conf.parent.glob("*.sh")):  # the check scripts beside the config (a lab file's own names)
            text = check.read_text()
            m = re.search(r"^sleep\s+([\d.]+)", text, re.M)
            restart_wait = max(restart_wait, float(m.group(1)) if m else 0.0)
            stops = stops or bool(re.search(r"^kill -TERM", text, re.M))
    return Model(
        {vip: Instance(e["name"], vip, e["priorities"], e["advert_int"], e["version"], e["unicast"],
                       tuple(sorted(e["preempt_delay"].items())), frozenset(e["nopreempt"]))
         for vip, e in instances.items()},
        interval, restart_wait, info.get("process_start_s", 0.0), info.get("keepalived_start_s", 0.0),
        tuple(directors), checker or None, weight, fall, stops, persistence, real_servers, refresh, sync=sync or None,
        script_rise=rise,
        sync_threshold=threshold,
        addresses={h: str(e.get("address", "")) for h, e in hosts.items()},
    )


def for_scenario(scenario: "Scenario", m: Model, target: str) -> list[Expectation]:
    """A scenario's expectations, completed so that every probed LVS VIP has exactly one
    client expectation in each phase: the scenario's (the latest bound where several of its
    changes touch the same VIP), else "not touched by this fault"."""
    phases = ("inject", "heal") if scenario.heal is not None else ("inject",)
    out: list[Expectation] = []
    bound: dict[tuple[str, str], Clients] = {}
    for e in scenario.expect(m, target):
        if not isinstance(e, Clients):
            out.append(e)
        elif (e.phase, e.vip) not in bound or e.window.latest > bound[(e.phase, e.vip)].window.latest:
            bound[(e.phase, e.vip)] = e
    for phase in phases:
        for vip in m.lvs_vips:
            out.append(bound.get((phase, vip)) or Clients(phase, vip, m.unaffected()))
    return out
