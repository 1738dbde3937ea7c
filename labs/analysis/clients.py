"""What clients saw: outages, error windows and where requests went.

Outage: the longest stretch with no successful response on a VIP that contains failed
requests — from the send time of the last success before it to the send time of the
first success after it (None if no success came back before the window ended).
Error window: from the first to the last failed request, however many succeeded in
between (one dead real server behind a live VIP fails only the clients pinned to it).
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


def view(requests: Sequence[Request], vip: str, t0: float, t1: float, pins: dict[tuple[str, str], str]) -> dict[str, Any]:
    """Outage and error window on `vip` for requests sent in [t0, t1)."""
    mine = [r for r in requests if r.vip == vip]
    window = [r for r in mine if t0 <= r.send_t < t1]
    failed = [r for r in window if not r.ok]
    result: dict[str, Any] = {
        "requests": len(window), "failed": len(failed),
        "errors": dict(Counter(r.error or f"http_{r.status}" for r in failed)),
        "outage_s": 0.0, "outage_start": None, "outage_end": None, "outage_failed": 0, "ongoing": False,
        "error_window": None,
    }
    if not failed:
        return result
    last_ok = max((r.send_t for r in mine if r.ok and r.send_t < t0), default=None)
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
    if run_failed:  # no success after the last failures: the outage had not ended
        length = t1 - (run_start if run_start is not None else t0)
        if best is None or length >= best[0]:
            best = (length, run_start, None, run_failed)
            result["ongoing"] = True
    assert best is not None
    result.update(outage_s=round(best[0], 4), outage_start=best[1], outage_end=best[2], outage_failed=best[3])
    first, last = failed[0].send_t, failed[-1].send_t
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
