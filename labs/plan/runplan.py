"""What a command asks for, as values: the lab (a topology or a lab file, its variant,
`--servers`, `--set`) built into its spec once, and what to do on it. Each command builds
one `RunPlan` from its arguments; the library (labs.lab.session, labs.lab.jobs, labs.lab.suite, the
Python API) takes the plan and never sees argparse. Building the spec reads a lab file's
configs and runs `keepalived --config-test` on each, so it happens here, once per command.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

import topologies
from labs.common.errors import LabError
from labs.probes import http as http_probe

if TYPE_CHECKING:
    from labs.spec import LabSpec


@dataclass(frozen=True)
class ProbeSettings:
    """The client probe's pace: requests per second per VIP, and how long each may take."""

    rate: float = http_probe.RATE  # requests per second per VIP
    timeout: float = http_probe.TIMEOUT  # s a request waits for its answer

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.timeout <= 0:
            raise LabError("--rate and --timeout must be positive numbers")


def parse_settings(items: Sequence[str]) -> dict[str, str]:
    """`--set NAME=VALUE` options as a dict (the last one given for a name wins)."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise LabError(f"--set {item}: write it as NAME=VALUE, e.g. --set advert_int=0.5")
        out[name.strip()] = value.strip()
    return out


@dataclass(frozen=True)
class LabChoice:
    """The lab a command runs: what the user named and the spec built from it."""

    topology: str  # a topology's name, or a lab file's absolute path
    variant: str
    params: Mapping[str, int]  # the topology's parameters given (servers)
    settings: Mapping[str, str]  # --set NAME=VALUE, applied to the spec
    spec: "LabSpec"

    @property
    def is_lab_file(self) -> bool:
        return self.topology.endswith(".toml")


def choose_lab(topology: str, variant: str = "default", servers: int | None = None,
               settings: Mapping[str, str] | None = None, config_test: bool = True) -> LabChoice:
    """The one place a command's lab becomes a spec: a Python topology's (its variant,
    parameters and `settings` applied to its timers) or a lab file's (`settings` written
    into its configs; its configs read and, unless not `config_test` (lint, which reports
    what keepalived -t says), checked by keepalived here)."""
    from labs.spec import labfile  # jinja2 (the daemon classes): labs.run --help and --list work without it

    settings = dict(settings or {})
    if labfile.is_lab_file(topology):
        clash = [flag for flag, on in (("--variant", variant != "default"), ("--servers", servers is not None)) if on]
        if clash:
            raise LabError(f"{' and '.join(clash)} change a Python topology; a lab file is changed by editing its configs "
                           "(or by --set NAME=VALUE)")
        path = Path(topology).absolute()  # the UML kernel and --jobs start from other folders
        return LabChoice(str(path), variant, {}, settings, labfile.load(path, settings, config_test))
    module = topologies.load(topology)
    params: dict[str, int] = {}
    if servers is not None:
        if "servers" not in getattr(module, "PARAMETERS", ()):
            takes = [n for n in topologies.names() if "servers" in getattr(topologies.load(n), "PARAMETERS", ())]
            raise LabError(f"topology {topology} has a fixed set of servers; --servers works with: {', '.join(takes)}")
        params["servers"] = servers
    spec = module.spec(variant, **params)
    if settings:
        spec = dataclasses.replace(spec, timers=spec.timers.with_settings(settings))
    return LabChoice(topology, variant, params, settings, spec)


@dataclass(frozen=True)
class RunPlan:
    """Everything a lab command does, decided before anything is built: the lab, the runs
    on it (scenario, target), how often, the probe, where results go and which kernel."""

    lab: LabChoice
    results: Path  # the results root, absolute: daemons get config paths from it, from other folders
    runs: tuple[tuple[str, str], ...] = ()  # (scenario, target); none: the lab alone (--check, --cli, a bench)
    repeat: int = 1
    probe: ProbeSettings = field(default_factory=ProbeSettings)
    kernel: str = "auto"
    jobs: int | None = None  # labs side by side; None: the default count (labs.lab.jobs.count)
    fresh: bool = False  # a new lab for every run instead of one shared lab
    target: str | None = None  # the --target given, which a job passes on
    argv: tuple[str, ...] = ()  # the command line as typed: run.json records it, --jobs and UML re-run it
    part: Path | None = None  # set for one of --jobs N: where its report goes
    cpu: int | None = None  # set for one of --jobs N: the host CPU of its kernel
    junit_xml: Path | None = None

    def __post_init__(self) -> None:
        if self.repeat < 1:
            raise LabError(f"--repeat {self.repeat}: give a count of 1 or more")
        if self.jobs is not None and self.jobs < 1:
            raise LabError(f"--jobs {self.jobs}: give a count of 1 or more")

    @property
    def spec(self) -> "LabSpec":
        return self.lab.spec

    @property
    def expanded(self) -> list[tuple[str, str]]:
        """Every run as it will happen: each planned one `repeat` times in a row."""
        return [run for run in self.runs for _ in range(self.repeat)]

    def folder_name(self, what: str) -> str:
        """A run folder's last word: what it is, and the variant when not the default."""
        return what if self.lab.variant == "default" else f"{what}-{self.lab.variant}"
