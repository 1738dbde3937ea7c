"""What clients saw: failed requests, error windows, when they were whole again, and where
requests went.

Error window: from the first to the last failed request, however many succeeded in
between (one dead real server behind a live VIP fails only the clients pinned to it), with
the share of requests that failed inside it.
Whole again: the last failed request's send time after the phase started; None when the
phase ended with clients still failing (`ongoing`: its last request on the VIP failed).
Longest gap: the longest stretch with no successful response that contains failed
requests — from the last success before it to the first after it. It understates a
partial outage (successes keep coming from other clients), so it is never the headline.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any, Sequence

from labs.analysis.data import Request


def pinned(requests: Sequence[Request], before: float) -> dict[tuple[str, str], str]:
    """(vip, source) -> the server that last answered it before `before` (persistence)."""
    out: dict[tuple[str, str], str] = {}
    for r in requests:
        if r.send_t >= before:
            break
        if r.ok and r.server:
            out[(r.vip, r.source)] = r.server
    return out


def select(requests: Sequence[Request], t0: float, t1: float, sources: frozenset[str] | None) -> list[Request]:
    """Requests *scheduled* in [t0, t1) from the client addresses in force (None: any)."""
    return [r for r in requests if t0 <= r.sched_t < t1 and (sources is None or r.source in sources)]


def view(phase: Sequence[Request], every: Sequence[Request], vip: str, t0: float, t1: float,
         pins: dict[tuple[str, str], str]) -> dict[str, Any]:
    """What the clients of `vip` lived through among the phase's requests `phase` (`every`:
    all of the run's, for the last success before the phase): failed requests, the error
    window, when they were whole again, whether they were still failing at the end, and
    the longest gap between answers."""
    window = [r for r in phase if r.vip == vip]
    failed = [r for r in window if not r.ok]
    result: dict[str, Any] = {
        "requests": len(window), "failed": len(failed),
        "errors": dict(Counter(r.error or f"http_{r.status}" for r in failed)),
        "whole_after_s": 0.0, "ongoing": False,
        "longest_gap_s": 0.0, "gap_start": None, "gap_end": None, "gap_failed": 0,
        "error_window": None,
    }
    if not failed:
        return result
    last_ok = max((r.send_t for r in every if r.vip == vip and r.ok and r.send_t < t0), default=None)
    best: tuple[float, float | None, float | None, int] | None = None  # (length, start, end, failures)
    run_start, run_failed = last_ok, 0
    for r in window:
        if r.ok:
            if run_failed:
                length = r.send_t - (run_start if run_start is not None else t0)
                if best is None or length > best[0]:
                    best = (length, run_start, r.send_t, run_failed)
            run_start, run_failed = r.send_t, 0
        else:
            run_failed += 1
    if run_failed:  # no success after the last failures: still failing when the phase ended
        length = t1 - (run_start if run_start is not None else t0)
        if best is None or length >= best[0]:
            best = (length, run_start, None, run_failed)
        result["ongoing"] = True
    assert best is not None
    result.update(longest_gap_s=round(best[0], 4), gap_start=best[1], gap_end=best[2], gap_failed=best[3])
    first, last = failed[0].send_t, failed[-1].send_t
    result["whole_after_s"] = None if result["ongoing"] else round(last - t0, 4)
    span = [r for r in window if first <= r.send_t <= last]
    by_server = Counter(pins.get((r.vip, r.source), "unknown") for r in failed)
    result["error_window"] = {
        "start": first, "end": last, "span_s": round(last - first, 4), "failed": len(failed),
        "requests": len(span), "failure_rate": round(len(failed) / len(span), 4),
        "by_server": dict(by_server),
    }
    return result


def distribution(requests: Sequence[Request], t0: float, t1: float) -> dict[str, Any]:
    """Successful answers per VIP per server, and per client address, for sends in [t0, t1)."""
    per_vip: dict[str, Counter[str]] = defaultdict(Counter)
    per_source: dict[str, Counter[str]] = defaultdict(Counter)
    for r in requests:
        if t0 <= r.send_t < t1 and r.ok:
            per_vip[r.vip][r.server] += 1
            per_source[r.source][r.server] += 1
    return {"by_vip": {k: dict(v) for k, v in sorted(per_vip.items())},
            "by_source": {k: dict(v) for k, v in sorted(per_source.items())}}


def _running(slots: Sequence[float], rate: float | None) -> float:
    """Seconds the probe was running: the span of its grid, less the gaps of a restart
    (a scenario may restart it with other client addresses)."""
    if len(slots) < 2:
        return 0.0
    gap = 10 / rate if rate else 1.0
    return sum(b - a for a, b in zip(slots, slots[1:]) if b - a <= gap)


def probe_quality(requests: Sequence[Request], info: dict[str, Any]) -> dict[str, Any]:
    """Did the probe keep its grid? Rate achieved per VIP and how late sends were."""
    if not requests:
        return {"requests": 0}
    vips = sorted({r.vip for r in requests})
    rate = info.get("probe", {}).get("rate")
    span = _running(sorted(r.sched_t for r in requests if r.vip == vips[0]), rate)
    late = sorted(r.send_t - r.sched_t for r in requests)
    return {
        "requests": len(requests),
        "requested_rate_per_vip": rate,
        "achieved_rate_per_vip": round(len([r for r in requests if r.vip == vips[0]]) / span, 2) if span > 0 else None,
        "late_p50_s": round(late[len(late) // 2], 4),
        "late_p99_s": round(late[min(len(late) - 1, int(len(late) * 0.99))], 4),
        "late_max_s": round(late[-1], 4),
    }
