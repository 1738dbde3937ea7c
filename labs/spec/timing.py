"""The VRRP timing model (RFC 3768 v2 / RFC 5798 v3) computed from a lab's data.

Every timing expectation in the lab comes from here, never from a hard-coded number.
"""
from __future__ import annotations

from labs.spec import LabSpec, Timers, VrrpInstance

# Starting ~10 daemons and their helper processes: a process start costs ~0.09 s under
# User-mode Linux (run.json's process_start_s), a daemon with its first work ~0.3-0.5 s,
# a few ms natively (docs/design-notes.md). A fixed allowance on top of the VRRP floor.
START_ALLOWANCE = 10.0


def skew_time(priority: int, advert_int: float, version: int = 2) -> float:
    """v2: (256 - priority) / 256 s; v3 scales it by the advertisement interval."""
    scale = advert_int if version == 3 else 1.0
    return (256 - priority) / 256 * scale


def master_down_interval(priority: int, advert_int: float, version: int = 2) -> float:
    """How long a backup waits without adverts before it becomes MASTER."""
    return 3 * advert_int + skew_time(priority, advert_int, version)


def startup_floor(spec: LabSpec) -> float:
    """keepalived starts every instance below priority 255 in BACKUP: the intended master
    takes its VIP only after its own master-down interval."""
    return tier_floor(spec, (*spec.director_instances, *spec.server_instances))


def checker_detect(connect_timeout: float, retry: int, delay_before_retry: float) -> float:
    """TCP_CHECK giving up on a silent real server once its check has started: (retry + 1)
    connects of connect_timeout each, with delay_before_retry between them."""
    return (retry + 1) * connect_timeout + retry * delay_before_retry


def checker_cycle(timers: Timers) -> float:
    """Worst case for TCP_CHECK to decide about a real server: wait a delay_loop (until
    the next check starts), then `checker_detect`."""
    return timers.delay_loop + checker_detect(timers.connect_timeout, timers.retry, timers.delay_before_retry)


def convergence_bound(spec: LabSpec) -> float:
    """How long bring-up may take before it is reported as not converging: the VRRP
    start-up floor, one checker cycle (a real server probed while the server VIPs were
    still moving in), and the process-start allowance."""
    return startup_floor(spec) + checker_cycle(spec.timers) + START_ALLOWANCE


# keepalived runs a real server's first health check no sooner than this after it starts:
# register_checkers_thread schedules it BOOTSTRAP_DELAY (one TIMER_HZ, lib/scheduler.h)
# plus a random warmup after the checker process has read its config (check_api.c, 2.2.7).
CHECKER_BOOTSTRAP = 1.0


def tier_floor(spec: LabSpec, instances: tuple[VrrpInstance, ...]) -> float:
    """The longest master-down interval of a tier's intended masters (0 without VRRP)."""
    t = spec.timers
    return max((master_down_interval(i.priority(i.master), t.advert_int, t.vrrp_version) for i in instances), default=0.0)


def directors_lead(spec: LabSpec) -> float:
    """How long before the server tier's masters take their VIPs bring-up starts the
    directors (labs.lab.lab): their checkers' first connect comes CHECKER_BOOTSTRAP after
    they start at the soonest, so it finds the real servers' VIPs in place. Without a
    server tier (plain real servers) the directors start once nginx runs."""
    return CHECKER_BOOTSTRAP if spec.server_instances and spec.director_instances else 0.0


def bring_up_floor(spec: LabSpec) -> float:
    """The VRRP timers' share of bring-up: the servers' master-down interval, then the
    directors' own, started directors_lead before the first ends."""
    servers, directors = tier_floor(spec, spec.server_instances), tier_floor(spec, spec.director_instances)
    if not servers or not directors:
        return max(servers, directors)
    return servers - directors_lead(spec) + directors
