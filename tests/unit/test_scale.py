"""The scale topology (N real servers) and the benchmark's parsing of what it measured."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from labs import lint

from labs.spec import timing
from labs.bench_lab import answers_per_server, evenness, parse_wrk
from labs.common.errors import LabError
from topologies import dual_master, scale


@pytest.mark.parametrize("n", [2, 4, 8, 16, 32, 64])
def test_every_count_is_a_valid_lab(n):
    spec = scale.spec(servers=n)
    spec.validate()
    assert len(spec.real_servers) == n
    addresses = [a for h in spec.hosts for a in h.source_ips]
    vips = [i.vip for i in (*spec.director_instances, *spec.server_instances)]
    assert len(set(addresses + vips)) == len(addresses) + len(vips), "no address used twice"
    vrids = [i.vrid for i in (*spec.director_instances, *spec.server_instances)]
    assert len(set(vrids)) == len(vrids)
    for vs in spec.virtual_servers:
        assert sorted(r.ip for r in vs.real_servers) == sorted(i.vip for i in spec.server_instances)


def test_servers_pair_up_like_server1_and_server2():
    spec = scale.spec(servers=4)
    assert [(i.master, sorted(i.hosts)) for i in spec.server_instances] == [
        ("server1", ["server1", "server2"]), ("server2", ["server1", "server2"]),
        ("server3", ["server3", "server4"]), ("server4", ["server3", "server4"])]
    for inst in spec.server_instances:
        (other,) = [h for h in inst.hosts if h != inst.master]
        assert (inst.state(inst.master), inst.state(other)) == ("MASTER", "BACKUP")
    assert spec.timers.persistence_timeout == 0, "persistence would hide rr evenness"


def test_directors_and_timing_floor_as_in_dual_master():
    assert scale.spec(servers=8).directors == dual_master.spec().directors
    assert timing.startup_floor(scale.spec(servers=8)) == timing.startup_floor(dual_master.spec())


def test_rendered_configs_lint_clean(tmp_path):
    files, addresses = lint.render_spec(scale.spec(servers=6), tmp_path)
    assert len(files) == 2 + 6
    assert lint.check(lint.load_files(files, addresses)) == []


@pytest.mark.parametrize("n", [0, 3, 66])
def test_bad_counts_are_one_line_errors(n):
    with pytest.raises(LabError, match="even number from 2 to 64"):
        scale.spec(servers=n)


WRK = """Running 5s test @ http://192.168.56.132/
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    24.10ms    5.02ms  60.00ms   80.00%
  3186 requests in 5.00s, 1.10MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:    637.11
Transfer/sec:    225.16KB
"""


def test_wrk_summary_is_parsed():
    assert parse_wrk(WRK) == {"rps": 637.11, "socket_errors": 3, "non_2xx": 4}
    with pytest.raises(LabError, match="no Requests/sec"):
        parse_wrk("unable to connect to 192.168.56.132:80 Connection refused")


def test_distribution_counts_answers_per_vip_and_server(tmp_path: Path):
    csv = tmp_path / "probes.csv"
    csv.write_text("sched_t,send_t,finish_t,vip,source,server,status,error\n"
                   "1,1,1,192.168.56.131,192.168.56.1,server1,200,\n"
                   "1,1,1,192.168.56.131,192.168.56.1,server2,200,\n"
                   "1,1,1,192.168.56.131,192.168.56.1,,,timeout\n"
                   "1,1,1,192.168.56.132,192.168.56.1,server2,200,\n")
    assert answers_per_server(csv) == {"192.168.56.131": {"server1": 1, "server2": 1}, "192.168.56.132": {"server2": 1}}


def test_evenness_counts_a_server_that_got_nothing():
    assert evenness({"server1": 10, "server2": 10}, ["server1", "server2"]) == {"min_over_max": 1.0, "cv": 0.0}
    assert evenness({"server1": 10}, ["server1", "server2"]) == {"min_over_max": 0.0, "cv": 1.0}


def test_the_bench_shows_a_lab_command_s_progress_as_it_comes(capsys):
    """A bench step is minutes of labs: its progress lines (a job's too) are shown as the
    command prints them, its tables are not; the whole output comes back for errors."""
    from labs import bench

    script = ("print('[   1.2s] lab up', flush=True); print('| a table row |'); "
              "print('[job 2] === [1/3] stop_keepalived on lvs1'); import sys; sys.exit(3)")
    code, out = bench._command([sys.executable, "-c", script])
    shown = capsys.readouterr().out.splitlines()
    assert code == 3 and "| a table row |" in out
    assert shown[1:] == ["    [   1.2s] lab up", "    [job 2] === [1/3] stop_keepalived on lvs1", shown[-1]]
    assert shown[-1].startswith("  exit 3 after ")


def test_the_bench_writes_under_the_working_directory_s_results(tmp_path, monkeypatch, capsys):
    """Installed, the package's own folder is site-packages: the bench's default folder is
    results/ where it is started, as labs.run's is. The writability check comes first and
    sees the folder; refusing it stops the bench before any measurement (exit 2)."""
    from labs import bench

    seen = []

    def refuse(root: Path) -> None:
        seen.append(root.absolute())
        raise LabError("refused here")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(bench.results, "check_writable", refuse)
    with pytest.raises(SystemExit) as exit_:
        bench.main([])
    assert exit_.value.code == 2 and seen == [tmp_path / "results"]
    assert capsys.readouterr().err == "python -m labs.bench: error: refused here (usage: python -m labs.bench --help)\n"
