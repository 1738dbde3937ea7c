"""HTTP probe: GETs to each VIP at a fixed rate, a new TCP connection per request.

Runs as one process inside the client's namespace (`python3 -m labs.probes.http ...`):
a process per request would cost ~0.3 s each under User-mode Linux. Requests are
scheduled on a fixed grid (request i of a VIP at start + i/rate) and sent from the
client's source addresses in turn; each is written to CSV as it completes, with its
scheduled, send and finish times (time.time(): CLOCK_REALTIME, µs resolution), so the
analysis can tell a lagging probe from a failing network.
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import errno
import json
import math
import signal
import sys
import time
from pathlib import Path
from typing import IO

from labs.common import jsonfile

FIELDS = ("sched_t", "send_t", "finish_t", "vip", "source", "server", "status", "error")
RATE = 50.0  # requests per second per VIP, unless told: the one default of the probe, the lab's commands and runs
TIMEOUT = 1.0  # seconds per request (connect + response), likewise
HEADER = b"x-served-by:"


def classify(exc: BaseException) -> str:
    """Error kinds the analysis distinguishes."""
    if isinstance(exc, asyncio.TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, ConnectionResetError):
        return "reset"
    if isinstance(exc, OSError) and exc.errno:
        return errno.errorcode.get(exc.errno, str(exc.errno)).lower()
    return type(exc).__name__


def parse_response(data: bytes) -> tuple[int | None, str]:
    """Status code and the X-Served-By header of a raw HTTP/1.0 response."""
    head = data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    try:
        status = int(head[0].split()[1])
    except (IndexError, ValueError):
        return None, ""
    for line in head[1:]:
        if line.lower().startswith(HEADER):
            return status, line[len(HEADER):].strip().decode(errors="replace")
    return status, ""


class Stop(asyncio.Event):
    """When a probe stops; `at`: the time it was told to (its grid's slots before that
    were asked of it)."""

    at: float | None = None

    def set(self) -> None:
        if self.at is None:
            self.at = time.time()
        super().set()


def stop_event(duration: float) -> Stop:
    """Set on SIGTERM or SIGINT, or after `duration` seconds: when a probe stops."""
    stop = Stop()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.call_later(duration, stop.set)
    return stop


async def flush_until(out: IO[str], stop: asyncio.Event) -> None:
    """Flush the CSV every 0.5 s until the probe stops: the rows reach the run folder as
    they come, even if the probe is killed."""
    while not stop.is_set():
        out.flush()
        try:
            await asyncio.wait_for(stop.wait(), 0.5)
        except asyncio.TimeoutError:
            pass


def common_arguments(p: argparse.ArgumentParser) -> None:
    """What every probe takes: the VIPs, the client's source addresses, where to write."""
    p.add_argument("--vip", action="append", required=True)
    p.add_argument("--source", action="append", required=True)
    p.add_argument("--port", type=int, default=80)
    p.add_argument("--duration", type=float, default=600.0, help="stop by itself after this many seconds")
    p.add_argument("--out", type=Path, required=True, help="CSV file to append to")
    p.add_argument("--stats", type=Path, help="JSON file for the probe's own figures")


def report(stats: dict[str, float], path: Path | None) -> int:
    """The probe's own figures: to the --stats file and stderr. A probe restarted in the
    same run (other client addresses) adds its `sent` and `asked` to the earlier
    processes' in `run_sent`/`run_asked` (`processes`: how many): the analysis judges
    the run's whole probing from them."""
    if path:
        try:
            before = json.loads(path.read_text()) if path.exists() else {}
        except ValueError:
            before = {}
        if "asked" in stats:
            stats = {**stats, "run_sent": before.get("run_sent", 0) + stats["sent"],
                     "run_asked": before.get("run_asked", 0) + stats["asked"], "processes": before.get("processes", 0) + 1}
        jsonfile.write(path, stats)
    print(json.dumps(stats), file=sys.stderr)
    return 0


class Probe:
    def __init__(self, vips: list[str], sources: list[str], rate: float, timeout: float, port: int, out: IO[str]) -> None:
        self.vips, self.sources, self.rate, self.timeout, self.port = vips, sources, rate, timeout, port
        self.writer = csv.writer(out)
        self.out = out
        if out.tell() == 0:  # appending after a restart keeps one header
            self.writer.writerow(FIELDS)
        self.sent = 0
        self.done = 0
        self.max_late = 0.0
        self.pending: set[asyncio.Task[None]] = set()

    async def request(self, vip: str, source: str, sched: float) -> None:
        send = time.time()
        server, status, error = "", None, ""
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await asyncio.open_connection(vip, self.port, local_addr=(source, 0))
                try:
                    writer.write(f"GET / HTTP/1.0\r\nHost: {vip}\r\nConnection: close\r\n\r\n".encode())
                    status, server = parse_response(await reader.read())
                finally:
                    writer.close()
            if status is None:
                error = "bad_response"
        except (OSError, asyncio.TimeoutError) as e:
            error = classify(e)
        self.writer.writerow((f"{sched:.6f}", f"{send:.6f}", f"{time.time():.6f}", vip, source, server, status or "", error))
        self.done += 1

    async def schedule(self, vip: str, start: float, stop: asyncio.Event, offset: int) -> None:
        i = 0
        while not stop.is_set():
            sched = start + i / self.rate
            delay = sched - time.time()
            if delay > 0:
                try:
                    await asyncio.wait_for(stop.wait(), delay)
                    return
                except asyncio.TimeoutError:
                    pass
            self.max_late = max(self.max_late, time.time() - sched)
            source = self.sources[(i + offset) % len(self.sources)]
            task = asyncio.create_task(self.request(vip, source, sched))
            self.pending.add(task)
            task.add_done_callback(self.pending.discard)
            self.sent += 1
            i += 1

    async def run(self, duration: float) -> dict[str, float]:
        stop = stop_event(duration)
        flusher = asyncio.create_task(flush_until(self.out, stop))
        start = time.time() + 0.05
        await asyncio.gather(*(self.schedule(v, start, stop, n) for n, v in enumerate(self.vips)))
        if self.pending:
            await asyncio.wait(self.pending, timeout=self.timeout + 1)
        await flusher
        self.out.flush()
        elapsed = time.time() - start
        # Asked: every slot of its grid scheduled before it was told to stop, but the last
        # (due within 1/rate of the stop, it races it). A probe that falls behind catches
        # up slot by slot, so `sent` falls short of `asked` by the slots it was still
        # behind on when it stopped.
        stopped = stop.at if stop.at is not None else time.time()
        asked = max(0, math.floor((stopped - start) * self.rate)) * len(self.vips)
        return {"sent": self.sent, "asked": asked, "completed": self.done, "seconds": round(elapsed, 3),
                "rate_per_vip": round(self.sent / max(elapsed, 1e-9) / len(self.vips), 2),
                "requested_rate_per_vip": self.rate, "max_late_s": round(self.max_late, 4)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m labs.probes.http", description=__doc__.split("\n")[0])
    common_arguments(p)
    p.add_argument("--rate", type=float, default=RATE, help="requests per second per VIP")
    p.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds per request (connect + response)")
    args = p.parse_args(argv)
    if args.rate <= 0 or args.timeout <= 0 or args.duration <= 0:
        p.error("--rate, --timeout and --duration must be positive")
    with open(args.out, "a", newline="") as out:
        stats = asyncio.run(Probe(args.vip, args.source, args.rate, args.timeout, args.port, out).run(args.duration))
    return report(stats, args.stats)


if __name__ == "__main__":
    sys.exit(main())
