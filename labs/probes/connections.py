"""Connection probe: long-lived HTTP/1.1 keep-alive connections through each LVS VIP.

Runs as one process inside the client's namespace (`python3 -m labs.probes.connections
...`), beside the HTTP probe (labs.probes.http, whose helpers it shares). It opens N
connections per VIP, staggered evenly over `--open-over` seconds from the client's source
addresses in turn (so their ages at a fault spread), and sends a GET on each every
`--interval` seconds: request i of a connection is scheduled at its opening + i × interval
and sent once both that time has come and the previous answer is in (HTTP/1.1 without
pipelining: a stalled connection sends late, and the lateness is the stall). Every request
is one CSV row as it completes: connection id, VIP, source address and port, when the
connection was opened, scheduled/send/finish times (time.time()), the X-Served-By server,
status and error. A connection that fails (reset, timeout, closed by the peer) is closed
and NOT reopened: its fate is the measurement.
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import sys
import time
from typing import IO

from labs.probes.http import classify, common_arguments, flush_until, parse_response, report, stop_event

FIELDS = ("conn", "vip", "source", "port", "opened_t", "sched_t", "send_t", "finish_t", "server", "status", "error")
INTERVAL = 0.1  # s between requests on one connection, unless a scenario sets CONNECTION_INTERVAL


class ConnectionProbe:
    def __init__(self, vips: list[str], sources: list[str], per_vip: int, interval: float, open_over: float,
                 timeout: float, port: int, out: IO[str]) -> None:
        self.vips, self.sources, self.per_vip = vips, sources, per_vip
        self.interval, self.open_over, self.timeout, self.port = interval, open_over, timeout, port
        self.writer = csv.writer(out)
        self.out = out
        if out.tell() == 0:
            self.writer.writerow(FIELDS)
        self.requests = 0
        self.broken = 0

    def row(self, conn: int, vip: str, source: str, port: int | str, opened: float | None, sched: float, send: float,
            server: str = "", status: int | None = None, error: str = "") -> None:
        self.writer.writerow((conn, vip, source, port, "" if opened is None else f"{opened:.6f}", f"{sched:.6f}",
                              f"{send:.6f}", f"{time.time():.6f}", server, status or "", error))
        self.requests += 1

    async def answer(self, reader: asyncio.StreamReader) -> tuple[int | None, str]:
        """One HTTP/1.1 response: its head, then exactly Content-Length bytes of body."""
        head = await reader.readuntil(b"\r\n\r\n")
        status, server = parse_response(head)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        if length:
            await reader.readexactly(length)
        return status, server

    async def connection(self, conn: int, vip: str, source: str, start: float, stop: asyncio.Event) -> None:
        """Open one connection at `start`, then a GET every interval until it fails or the probe stops."""
        if await self.wait_until(start, stop):
            return
        send = time.time()
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await asyncio.open_connection(vip, self.port, local_addr=(source, 0))
        except (OSError, asyncio.TimeoutError) as e:
            self.row(conn, vip, source, "", None, start, send, error=classify(e))
            self.broken += 1
            return
        opened = time.time()
        port = writer.get_extra_info("sockname")[1]
        request = f"GET / HTTP/1.1\r\nHost: {vip}\r\n\r\n".encode()
        i = 0
        try:
            while not stop.is_set():
                sched = opened + i * self.interval
                if await self.wait_until(sched, stop):
                    return
                send = time.time()
                server, status, error = "", None, ""
                try:
                    async with asyncio.timeout(self.timeout):
                        writer.write(request)
                        await writer.drain()
                        status, server = await self.answer(reader)
                    if status is None:
                        error = "bad_response"
                except asyncio.IncompleteReadError:
                    error = "closed"  # the peer closed it (FIN) before answering
                except (OSError, asyncio.TimeoutError) as e:
                    error = classify(e)
                self.row(conn, vip, source, port, opened, sched, send, server, status, error)
                if error:
                    self.broken += 1
                    return
                i += 1
        finally:
            writer.close()

    @staticmethod
    async def wait_until(t: float, stop: asyncio.Event) -> bool:
        """Sleep until time t; True if the probe was stopped meanwhile."""
        delay = t - time.time()
        if delay > 0:
            try:
                await asyncio.wait_for(stop.wait(), delay)
            except asyncio.TimeoutError:
                pass
        return stop.is_set()

    async def run(self, duration: float) -> dict[str, float]:
        stop = stop_event(duration)
        flusher = asyncio.create_task(flush_until(self.out, stop))
        start = time.time() + 0.05
        step = self.open_over / self.per_vip
        tasks = []
        for v, vip in enumerate(self.vips):
            for k in range(self.per_vip):
                conn = v * self.per_vip + k
                source = self.sources[k % len(self.sources)]
                tasks.append(self.connection(conn, vip, source, start + k * step, stop))
        # A request in flight when the probe stops gets its answer (or its timeout) first.
        await asyncio.gather(*tasks)
        await flusher
        self.out.flush()
        return {"connections": len(tasks), "requests": self.requests, "broken": self.broken,
                "seconds": round(time.time() - start, 3)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m labs.probes.connections", description=__doc__.split("\n")[0])
    common_arguments(p)
    p.add_argument("--connections", type=int, default=20, help="connections per VIP")
    p.add_argument("--interval", type=float, default=INTERVAL, help="seconds between requests on one connection")
    p.add_argument("--open-over", type=float, default=6.0, help="open each VIP's connections evenly over this many seconds")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds per request (connect, or request + answer)")
    args = p.parse_args(argv)
    if min(args.connections, args.interval, args.timeout, args.duration) <= 0 or args.open_over < 0:
        p.error("--connections, --interval, --timeout and --duration must be positive, --open-over not negative")
    with open(args.out, "a", newline="") as out:
        stats = asyncio.run(ConnectionProbe(args.vip, args.source, args.connections, args.interval, args.open_over,
                                            args.timeout, args.port, out).run(args.duration))
    return report(stats, args.stats)


if __name__ == "__main__":
    sys.exit(main())
