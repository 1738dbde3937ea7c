"""A running lab: bring-up in order, teardown of exactly what bring-up made.

Bring-up: lock and sweep a dead run's leftovers -> Mininet network -> record namespaces ->
name them -> role set-up -> render every config -> the servers' own config checks -> their
nginx -> their keepalived -> the directors' checks -> the directors' keepalived, started
one checker bootstrap plus keepalived's start-up before the server VIPs are due -> wait
for convergence. Teardown runs in reverse whatever was reached.
"""
from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from labs import daemons

from labs.lab import topo
from labs.daemons.base import Daemon, Node, check_all, stop_all
from labs.daemons.keepalived import Keepalived
from labs.common.errors import LabError
from labs.lab.faults import Fault
from labs.lab.events import EventLog
from labs.lab import converge, netns, network
from labs.lab.paths import STATE_ROOT, RunPaths
from labs.lab.record import Lock, Record, sweep, sweep_stale, RECORD
from labs.lab.netwatch import NetlinkWatcher
from labs.lab.watch import FifoWatcher
from labs.spec import LabSpec
from labs.spec.timing import convergence_bound, directors_lead, tier_floor

if TYPE_CHECKING:
    from mininet.net import Mininet  # labs.lab.topo builds it: the one module that makes Mininet's network

Say = Callable[[str], None]


class Lab:
    def __init__(self, spec: LabSpec, results: Path, say: Say = print) -> None:
        spec.validate()
        self.spec = spec
        self.say = say
        self.paths = RunPaths(results, STATE_ROOT / f"run-{os.getpid()}")
        self.lock = Lock()
        self.record: Record | None = None
        self.net: Mininet | None = None
        self.events: EventLog | None = None
        self.watchers: list[FifoWatcher | NetlinkWatcher] = []
        self.recording = results  # where events, probes and log slices go now (Lab.follow)
        self.log_marks: dict[Path, int] = {}  # log file -> its size when the current recording began
        self.process_start = 0.0
        self.daemons: list[Daemon] = []
        self.started: list[Daemon] = []
        self.start_times: dict[tuple[str, str], float] = {}
        self.converged_after: float | None = None
        self.faults: dict[str, Fault] = {}  # host -> the fault a scenario injected there, until healed

    # -- bring-up ---------------------------------------------------------------------

    def up(self, idle: Callable[[], None] | None = None) -> float:
        """Build and start everything; return seconds from daemon start to convergence.
        `idle`: the caller's own work, done while the servers wait out their master-down
        interval (the CPU has nothing else to do then)."""
        self.lock.acquire(self.paths.results)
        for line in sweep_stale():
            self.say(f"removed a previous run's leftover: {line}")
        network.check_names_free(self.spec)
        self.paths.logs.mkdir(parents=True, exist_ok=True)
        self.paths.runtime.mkdir(mode=0o755, parents=True)
        self.record = Record(os.getpid(), str(self.paths.results), str(self.paths.runtime))
        self.record.save()

        t = time.monotonic()
        self.net = topo.build(self.spec)
        self._record_namespaces()
        for host in self.spec.hosts:
            network.configure(self.spec, host, host.name)
        self.say(f"network: {len(self.spec.hosts)} hosts on one bridge in {time.monotonic() - t:.1f} s")

        self.daemons = daemons.render(self.spec, self.paths)
        first = [d for d in self.daemons if d.host.role == daemons.TIERS[0]]
        then = [d for d in self.daemons if d.host.role != daemons.TIERS[0]]
        self._check(first)

        self.events = EventLog(self.paths.results / "events.jsonl")
        fifos, netlink = FifoWatcher(self.events), NetlinkWatcher(self.events)
        for d in self.daemons:
            if isinstance(d, Keepalived):
                fifos.add(d.notify_fifo, d.host.name)
        for host in self.spec.hosts:
            netlink.add(host.name, host.name, self.spec.interface, neighbours=host == self.spec.client)
        for switch in self.net.switches:
            netlink.add(f"/proc/{switch.pid}/ns/net", switch.name)
        self.watchers = [fifos, netlink]
        for w in self.watchers:
            w.start()

        # Tier by tier (labs.daemons.TIERS: back ends first). The directors' configs are
        # checked, and the process-start cost measured, while the servers wait out their
        # master-down interval: the CPU is idle then (one CPU under UML).
        bound = convergence_bound(self.spec)
        self.say(f"starting daemons; convergence bound per tier {bound:.1f} s from the VRRP and checker timers")
        t0 = time.monotonic()
        self._start(first)
        due = self._server_vips_due(t0 + bound)
        self._check(then)
        self.say(f"configs rendered and checked (keepalived -t, nginx -t): {self.paths.results / 'configs'}")
        self.process_start = self._measure_process_start()
        if idle is not None:
            idle()
        if due is not None:
            # A keepalived's checkers start their bootstrap once it is up, which takes as
            # long as the servers' took from exec to their first notification (~0.5 s
            # under UML): the directors start that much earlier too. Their first check
            # comes at about `due` (measured: a director's IPVS table, which its checker
            # programs just before scheduling the checks, appears within 0.1 s of its first
            # VRRP notification); one that begins a little before the VIP still succeeds,
            # as its SYN waits for ARP, which the new master's gratuitous ARP resolves.
            startup = self._keepalived_startup(first)
            lead = directors_lead(self.spec)
            time.sleep(max(0.0, due - lead - startup - time.time()))
            self.say(f"starting the directors {lead:g} s (their checkers' bootstrap) + {startup:.2f} s (keepalived's "
                     "start-up) before the server tier's masters take their VIPs")
        self._start(then)
        self.converged_after = converge.wait(self, time.monotonic(), bound) - t0
        for w in self.watchers:
            if isinstance(w, NetlinkWatcher):
                w.settled()
        return self.converged_after

    def _check(self, daemons: Iterable[Daemon]) -> None:
        """Each daemon's own config check (keepalived -t, nginx -t), all together;
        tolerated failures are said."""
        for warning in check_all([(d, self.node(d.host.name)) for d in daemons]):
            self.say(warning)

    def _keepalived_startup(self, started: Iterable[Daemon]) -> float:
        """The quickest of these keepalived's start-ups, exec to first notification."""
        assert self.events is not None
        first = self.events.first_per_host("vrrp")
        return min((first[d.host.name] - self.start_times[(d.host.name, d.name)] for d in started
                    if isinstance(d, Keepalived) and d.host.name in first), default=0.0)

    def _server_vips_due(self, deadline: float) -> float | None:
        """When (time.time()) the server tier's intended masters take their VIPs: each
        waits its master-down interval from its start-up BACKUP notification. None without
        a server tier; past `deadline` (monotonic) with notifications missing, the lab is
        not converging, and converge.wait says why."""
        instances = self.spec.server_instances
        if not instances or not self.spec.director_instances:
            return None
        assert self.events is not None
        while True:
            seen = self.events.first_per_host("vrrp")
            if all(i.master in seen for i in instances):
                return max(seen[i.master] + tier_floor(self.spec, (i,)) for i in instances)
            if time.monotonic() > deadline:
                converge.wait(self, deadline, 0.0, instances)
                return None
            time.sleep(converge.POLL)

    def _start(self, daemons: Iterable[Daemon]) -> None:
        """Start in waves: every host's first daemon (nginx on a server), then every host's
        next (keepalived), each wave launched together and then awaited — one by one, the
        process starts of a slow kernel (~0.3 s each under UML) would add up."""
        waves: dict[int, list[Daemon]] = {}
        per_host: dict[str, int] = {}
        for d in daemons:
            n = per_host[d.host.name] = per_host.get(d.host.name, -1) + 1
            waves.setdefault(n, []).append(d)
        for wave in waves.values():
            for d in wave:
                self.started.append(d)  # before waiting: Ctrl-C while it starts must still stop it
                self.start_times[(d.host.name, d.name)] = time.time()
                d.start(self.node(d.host.name))
            for d in wave:
                d.wait_started()

    def _record_namespaces(self) -> None:
        assert self.net is not None and self.record is not None
        for node in self.net.switches:
            self.record.anonymous.append(list(netns.of_pid(node.pid)))
        for host in self.spec.hosts:
            self.record.namespaces[host.name] = list(netns.of_pid(self.node(host.name).pid))
        self.record.run_dir = list(netns.run_dir_state())
        self.record.save()  # before naming: a crash now still finds every namespace
        for host in self.spec.hosts:
            netns.attach(host.name, self.node(host.name).pid)

    def _measure_process_start(self, samples: int = 5) -> float:
        """Median cost of starting a process in a lab host: the model's tolerance for
        paths that start processes scales with it (~1 ms natively, ~0.3 s under UML)."""
        node = self.node(self.spec.client.name)
        times = []
        for _ in range(samples):
            t = time.monotonic()
            node.pexec(["true"])
            times.append(time.monotonic() - t)
        return sorted(times)[samples // 2]

    # -- one lab, several scenarios -------------------------------------------------------

    def follow(self, folder: Path) -> None:
        """Record into `folder` from now on: the next scenario on this lab gets a complete
        results folder of its own (the configs as rendered, its own events file starting
        from a snapshot of the lab's state, and — with `keep_logs` — its slice of the logs)."""
        shutil.copytree(self.paths.results / "configs", folder / "configs", dirs_exist_ok=True)
        (folder / "logs").mkdir(parents=True, exist_ok=True)
        assert self.events is not None
        self.events.switch(folder / "events.jsonl")
        for w in self.watchers:
            if isinstance(w, NetlinkWatcher):
                w.snapshot()
        self.log_marks = {p: p.stat().st_size for p in self.paths.logs.glob("*.log")}
        self.recording = folder

    def keep_logs(self) -> None:
        """Copy what the daemons logged since `follow` into the folder being recorded."""
        if self.recording == self.paths.results:
            return
        for log in self.paths.logs.glob("*.log"):
            with open(log, "rb") as src, open(self.recording / "logs" / log.name, "ab") as dst:
                src.seek(self.log_marks.get(log, 0))
                shutil.copyfileobj(src, dst)

    def debris(self) -> list[str]:
        """What a fault left behind that a healthy lab does not have: faults not healed,
        lab links not up, queueing disciplines on them (netem)."""
        found = [f"{host}: a fault is still injected ({type(f).__name__})" for host, f in self.faults.items()]
        for w in self.watchers:
            if isinstance(w, NetlinkWatcher):
                changed = sorted(w.link_changes().items())
                found += [f"{host}: {ifname} is {now}, was {was}" for (host, ifname), (was, now) in changed]
                found += [f"{host}: a {kind} qdisc on {ifname}" for host, ifname, kind in w.qdiscs()]
        return found

    def config_changes(self) -> dict[str, list[str]]:
        """What the lab changed in each host's keepalived.conf as written (a lab file's);
        empty for configs rendered from a topology."""
        return {d.host.name: list(d.changes) for d in self.daemons if isinstance(d, Keepalived) and d.changes}

    def keepalived_start(self) -> float:
        """Longest time a keepalived took from exec to its first VRRP notification."""
        assert self.events is not None
        first = self.events.first_per_host("vrrp")
        return max((first[h] - t for (h, name), t in self.start_times.items() if name == "keepalived" and h in first),
                   default=0.0)

    def daemon(self, host: str, name: str) -> Daemon:
        for d in self.daemons:
            if d.host.name == host and d.name == name:
                return d
        raise LabError(f"{host} runs no {name}")

    def runs(self, host: str, name: str) -> bool:
        """Whether `host` has the daemon (a lab file's real server may run nginx alone)."""
        return any(d.host.name == host and d.name == name for d in self.daemons)

    def restart(self, host: str, name: str) -> None:
        """Start a daemon that a fault stopped (if it is not running already)."""
        d = self.daemon(host, name)
        if not d.running():
            d.start(self.node(host))
            if d not in self.started:  # before waiting: Ctrl-C while it starts must still stop it
                self.started.append(d)
            d.wait_started()

    def fault(self, action: str, detail: str, **fields: object) -> float:
        """Record a fault action ("inject" / "heal") the moment before it is carried out;
        an action that takes time to apply notes its duration with `annotate`."""
        assert self.events is not None
        return self.events.record("fault", action=action, detail=detail, **fields)["t"]

    def annotate(self, t: float, **fields: object) -> None:
        """Add what is only known after acting (e.g. which blackhole method worked) to the
        fault recorded at time t."""
        assert self.events is not None
        self.events.record("fault_note", ref_t=t, **fields)

    def node(self, name: str) -> Node:
        assert self.net is not None
        return self.net[name]

    def running(self) -> dict[str, dict[str, bool]]:
        """Which started daemons are still alive, per host."""
        out: dict[str, dict[str, bool]] = {}
        for d in self.started:
            out.setdefault(d.host.name, {})[d.name] = d.running()
        return out

    # -- teardown ---------------------------------------------------------------------

    def down(self) -> None:
        """Undo whatever `up` reached, in reverse; safe to call more than once."""
        # keepalived everywhere first (its check script would restart nginx), then nginx;
        # each group together, so teardown does not grow with the number of servers. All
        # with SIGTERM: nginx's graceful stop (SIGQUIT, what a scenario's stop uses) waits
        # for connections still reading a request, and after a director failover a client's
        # packets may reach a director that does not know the connection (DR), so the
        # request never comes: one teardown waited out the 10 s stop timeout and left an
        # nginx worker (1 of 9 fresh stop_keepalived runs).
        for name in dict.fromkeys(d.name for d in reversed(self.started)):
            stop_all([d for d in self.started if d.name == name], signal.SIGTERM)
        self.started = []
        self.faults.clear()  # their rules and qdiscs go with the namespaces
        for w in self.watchers:
            w.close()
        self.watchers = []
        if self.events is not None:
            self.events.close()
        if self.net is not None:
            self.net.stop()
            self.net = None
        if self.record is not None:
            leftovers = sweep(self.record)
            leftovers = [x for x in leftovers if not x.startswith(("namespace ", "runtime folder ", "mount ", "folder "))]
            for line in leftovers:
                self.say(f"teardown: also removed {line}")
            RECORD.unlink(missing_ok=True)
            self.record = None
        self.lock.release()
