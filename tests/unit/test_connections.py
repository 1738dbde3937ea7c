"""Long-lived connections across a director failover (scenarios/director_failover.py): the
connection probe, the per-connection analysis and the model's verdicts, on hand-made run
folders whose answers are known."""
from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

from labs.plan import scenario
from labs.analysis import connections, data, expectations, model, summary
from labs.daemons.keepalived import Keepalived
from labs.lab.paths import RunPaths
from labs.probes.connections import FIELDS, ConnectionProbe
from topologies import dual_master
from unit.analysis_fixture import T0, events, graceful_lvs1, healthy, probes

VIP1, VIP2 = "192.168.56.131", "192.168.56.132"
INTERVAL = 0.1


def folder(tmp: Path, variant: str = "default", target: str = "lvs1") -> Path:
    """A director_failover run folder of `variant`, as labs.lab.experiment starts it."""
    results = tmp / "run"
    spec = dual_master.spec(variant)
    paths = RunPaths(results, tmp / "runtime")
    for host in (*spec.directors, *spec.real_servers):
        Keepalived(spec, host, paths).render()
    run = {"scenario": "director_failover", "target": target, "kernel_backend": "native", "probe": {"rate": 10.0},
           "process_start_s": 0.001, "keepalived_start_s": 0.5}
    (results / "run.json").write_text(json.dumps(run))
    m = model.load(results, run)
    expectations.write(results, model.for_scenario(scenario.load("director_failover"), m, target))
    return results


def conn_rows(conn: int, vip: str, opened: float, end: float, fate=lambda t: ("server1", 200, "")) -> list[tuple]:
    """One connection's requests every INTERVAL from `opened` (fault-relative) until `end` or
    its first error; fate(t) gives (server, status, error) of a request sent at t, and a
    request sent during a stall (status None, no error) is answered when the stall ends."""
    rows, t, port = [], opened, 40000 + conn
    while t < end:
        server, status, error = fate(t)
        finish = t + 0.005
        if status is None and not error:  # stalled: answered at the first t' that is not
            while fate(finish)[1] is None and not fate(finish)[2]:
                finish += 0.05
            server, status, error = fate(finish)
        rows.append((conn, vip, "192.168.56.1", port, T0 + opened, T0 + t, T0 + t, T0 + finish, server, status or "",
                     error))
        if error:
            break
        t = max(t + INTERVAL, finish)
    return rows


def write(results: Path, *connections_rows: list[tuple]) -> None:
    with open(results / connections.FILE, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(FIELDS)
        for rows in connections_rows:
            w.writerows(rows)


def reset_after(t0: float):
    return lambda t: ("", None, "reset") if t >= t0 else ("server1", 200, "")


def stalled(start: float, end: float):
    return lambda t: ("", None, "") if start <= t < end else ("server1", 200, "")


def analyze(results: Path) -> dict:
    events(results, graceful_lvs1(0.70))
    probes(results, -9, 20, healthy)
    return summary.summarize(data.load(results))


def conns_of(s: dict, phase: str, vip: str) -> dict:
    (p,) = [p for p in s["phases"] if p["phase"] == phase]
    (e,) = [e for e in p["expectations"] if e["kind"] == "connections" and e["vip"] == vip]
    return e


def test_without_sync_the_moved_vips_connections_must_break(tmp_path):
    results = folder(tmp_path)
    write(results,
          conn_rows(0, VIP1, -8, 20, reset_after(0.9)),   # reset by lvs2, which has no entry for it
          conn_rows(1, VIP2, -6, 20),                      # untouched VIP: survives
          conn_rows(2, VIP2, -4, 20, stalled(2.0, 3.5)))   # survives, 1.5 s without an answer
    s = analyze(results)
    assert s["verdict"] == "pass", s["reason"]
    moved = conns_of(s, "inject", VIP1)
    assert moved["expected"] == "break" and moved["broke"] == 1 and moved["errors"] == {"reset": 1}
    (c,) = moved["connections"]
    assert c["fate"] == "broke" and c["age_s"] == 8.0 and 0.9 <= c["broke_after_s"] <= 1.01
    kept = conns_of(s, "inject", VIP2)
    assert kept["expected"] == "survive" and kept["survived"] == 2 and kept["stalled"] == 1
    stall = next(c for c in kept["connections"] if c["conn"] == 2)
    assert stall["fate"] == "stalled" and 1.5 <= stall["max_gap_s"] <= 1.65
    assert conns_of(s, "heal", VIP1)["verdict"] == "measured", "the failback is measured, never judged"
    assert expectations.cells(moved) == ("break", "0/1 survived")


def test_without_sync_a_surviving_connection_fails_the_model(tmp_path):
    results = folder(tmp_path)
    write(results, conn_rows(0, VIP1, -8, 20), conn_rows(1, VIP2, -6, 20))
    s = analyze(results)
    assert s["verdict"] == "fail"
    assert "1 of 1 connections at the inject survived, the model expects all to break" in s["reason"]


def test_with_sync_old_connections_must_survive_young_ones_are_measured(tmp_path):
    results = folder(tmp_path, "sync")
    write(results,
          conn_rows(0, VIP1, -6, 20, stalled(0.0, 0.95)),  # synced long ago: stalls through the takeover
          conn_rows(1, VIP1, -1, 20, reset_after(0.9)),    # 1 s old: the backup may not know it yet
          conn_rows(2, VIP2, -6, 20))
    s = analyze(results)
    assert s["verdict"] == "pass", s["reason"]
    moved = conns_of(s, "inject", VIP1)
    assert moved["expected"] == "survive" and moved["older_than_s"] == model.SYNC_FLUSH_S + model.SYNC_CHECK_S + 0.25
    assert (moved["alive"], moved["judged"], moved["survived"], moved["stalled"], moved["broke"]) == (2, 1, 1, 1, 1)
    assert moved["by_age"] == [{"age_from_s": 1.0, "age_to_s": 2.0, "survived": 0, "broke": 1},
                               {"age_from_s": 6.0, "age_to_s": 7.0, "survived": 1, "broke": 0}]
    assert expectations.cells(moved) == ("survive if >=3.25s old", "1/2 survived, 1 stalled")


def test_with_sync_an_old_connection_that_breaks_fails(tmp_path):
    results = folder(tmp_path, "sync")
    write(results, conn_rows(0, VIP1, -6, 20, reset_after(0.9)), conn_rows(1, VIP2, -6, 20))
    s = analyze(results)
    assert s["verdict"] == "fail"
    assert "1 of 1 connections at least 3.25 s old at the inject broke" in s["reason"]


def test_sync_protects_only_the_sync_masters_connections(tmp_path):
    """lvs_sync_daemon follows VI_1: lvs1 sends, lvs2 only receives. Stopping lvs2 moves .132
    to lvs1, which never learnt lvs2's connections."""
    results = folder(tmp_path, "sync", target="lvs2")
    m = model.load(results, json.loads((results / "run.json").read_text()))
    assert m.sync == {"lvs1": "VI_1", "lvs2": "VI_1"} and m.sync_master() == "lvs1"
    expected = {(e.phase, e.vip): e for e in model.for_scenario(scenario.load("director_failover"), m, "lvs2")
                if isinstance(e, expectations.Connections)}
    assert expected[("inject", VIP2)].fate == "break" and "lvs2 runs no master sync daemon" in expected[("inject", VIP2)].basis
    assert expected[("inject", VIP1)].fate == "survive" and expected[("inject", VIP1)].older_than == 0.0


def test_fates_before_a_phase():
    rows = tuple(connections.read_rows(io.StringIO(_csv(conn_rows(0, VIP1, -3, 5, reset_after(-1))))))
    c = connections.Connection(0, VIP1, "192.168.56.1", "40000", T0 - 3, rows)
    assert c.fate(T0, T0 + 5, 0.6)["fate"] == "gone_before"
    assert c.fate(T0 - 5, T0, 0.6)["fate"] == "not_open"


def _csv(rows: list[tuple]) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(FIELDS)
    w.writerows(rows)
    return out.getvalue()


def test_probe_keeps_connections_and_never_reopens_a_broken_one(tmp_path):
    """A local HTTP/1.1 server that closes every connection after its third answer: each
    connection records three answers, then its error, and is not opened again."""
    async def main() -> dict:
        async def serve(reader, writer):
            for _ in range(3):
                await reader.readuntil(b"\r\n\r\n")
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Served-By: srv\r\n\r\nok")
                await writer.drain()
            writer.close()
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        with open(tmp_path / "c.csv", "w", newline="") as out:
            stats = await ConnectionProbe(["127.0.0.1"], ["127.0.0.1"], 2, 0.05, 0.1, 1.0, port, out).run(0.6)
        server.close()
        return stats
    stats = asyncio.run(main())
    assert stats["connections"] == 2 and stats["broken"] == 2
    conns = connections.read_file(tmp_path / "c.csv")
    assert [len(c.rows) for c in conns] == [4, 4], "three answers, then the error; never reopened"
    for c in conns:
        assert [r.server for r in c.rows[:3]] == ["srv"] * 3 and len({r.port for r in c.rows}) == 1
        assert c.rows[-1].error == "closed"


def test_plots_of_a_run_with_connections(tmp_path):
    from labs import plot

    results = folder(tmp_path, "sync")
    write(results, conn_rows(0, VIP1, -6, 20, stalled(0.0, 0.95)), conn_rows(1, VIP1, -1, 20, reset_after(0.9)),
          conn_rows(2, VIP2, -6, 20))
    analyze(results)
    made = {p.name for p in plot.draw(results, fresh=True)}
    assert {"timeline.png", "connections.png", "report.html"} <= made


def test_sync_sysctls_reach_the_directors_and_the_model(tmp_path):
    import dataclasses

    from labs.spec import sysctls

    spec = dual_master.spec("sync")
    lvs1, server1 = spec.host("lvs1"), spec.host("server1")
    assert sysctls.ipvs_sync(spec) == {}, "the kernel's defaults are left alone"
    tuned = dataclasses.replace(spec, timers=spec.timers.with_settings(
        {"ipvs_sync_period": "5", "ipvs_sync_refresh_period": "10"}))
    assert sysctls.of_host(tuned, lvs1) == {"net.ipv4.vs.expire_nodest_conn": "1", "net.ipv4.vs.sync_threshold": "3 5",
                                            "net.ipv4.vs.sync_refresh_period": "10"}
    assert "net.ipv4.vs.sync_threshold" not in sysctls.of_host(tuned, server1)
    results = folder(tmp_path, "sync")
    info = json.loads((results / "run.json").read_text())
    assert model.load(results, info).connections_failover(model.load(results, info).instances[VIP1], "lvs1",
                                                          "lvs2").fate == "survive"
    raised = dataclasses.replace(spec, timers=spec.timers.with_settings({"ipvs_sync_threshold": "10"}))
    (results / "configs" / "lvs1" / sysctls.RECORD).write_text(sysctls.record(raised, lvs1))
    m = model.load(results, info)
    assert m.sync_threshold == 10 and m.connections_failover(m.instances[VIP1], "lvs1", "lvs2").fate == "measured"


def test_sync_bound_to_no_instance_protects_both_directors_connections(tmp_path):
    results = folder(tmp_path, "sync_both", target="lvs2")
    m = model.load(results, json.loads((results / "run.json").read_text()))
    assert m.sync == {"lvs1": "", "lvs2": ""} and m.sync_roles("lvs2") == {"master", "backup"}
    for lost, to, vip in (("lvs1", "lvs2", VIP1), ("lvs2", "lvs1", VIP2)):
        e = m.connections_failover(m.instances[vip], lost, to)
        assert e.fate == "survive" and e.older_than > 3
    sync = folder(tmp_path / "bound", "sync")
    m = model.load(sync, json.loads((sync / "run.json").read_text()))
    assert (m.sync_roles("lvs1"), m.sync_roles("lvs2"), m.sync_roles("server1")) == ({"master"}, {"backup"}, set())


def test_crash_and_link_forms(tmp_path):
    """`lvs1:crash` leaves lvs1's kernel syncing until lvs2 takes over (its master-down
    interval less one advert, 2.69 s): the bound shrinks by that; `lvs1:link` cuts the sync at
    the fault, as a stop does. Without sync all break in every form."""
    director_failover = scenario.load("director_failover")
    for variant, target, fate, older in (("sync", "lvs1", "survive", 3.25), ("sync", "lvs1:link", "survive", 3.25),
                                         ("sync", "lvs1:crash", "survive", 0.562), ("default", "lvs1:crash", "break", 0.0),
                                         ("default", "lvs1:link", "break", 0.0)):
        results = folder(tmp_path / f"{variant}-{target}", variant)
        m = model.load(results, json.loads((results / "run.json").read_text()))
        expected = model.for_scenario(director_failover, m, target)
        (moved,) = [e for e in expected if isinstance(e, expectations.Connections) and e.phase == "inject"
                    and e.vip == VIP1]
        assert (moved.fate, round(moved.older_than, 3)) == (fate, older), (variant, target)
        move = next(e for e in expected if isinstance(e, expectations.Move) and e.phase == "inject")
        assert ("silent loss" in move.window.basis) == (target != "lvs1")
        # observed until TCP's doubling retransmissions have surely met the new holder
        assert moved.observe_until == 2 * move.window.latest + 0.25
