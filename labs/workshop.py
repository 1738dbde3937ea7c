"""`python -m labs.workshop check [--all|--quick|EXERCISE...]` and `figures [NAME...]`: the
workshop guide (docs/workshop.md) as an executable document.

docs/workshop.toml holds, for each exercise of the guide (one table per section number), the
commands as the guide prints them, the claims its prose makes about them (verdicts, which
VIP moves where, the model's windows, what the clients saw), how long it takes, and the
figures of docs/figures/ its runs draw. `check` runs the commands (scenario runs that
differ only in their scenarios share one `labs.run`, as a lab shares its runs) and fails,
naming the exercise and the claim, wherever the guide and the lab disagree. `figures` runs
each figure's command as the guide prints it, one at a time, copies the PNG it drew into
docs/figures/ and checks that command's claims on that very run, so the figures and the
numbers beside them come from the same runs. Loading the TOML also checks it against the
guide's text: every command, session line, window, measured figure, duration and figure it
names must be in the exercise's section.
"""
from __future__ import annotations

import argparse
import glob
import json
import re
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from labs import run as run_command
from labs.analysis import expectations, model
from labs.common import results
from labs.common.command import Parser, describe, entry
from labs.common.errors import LabError
from labs.plan.scenario import load as load_scenario

PROG = "python -m labs.workshop"
REPO = Path(__file__).resolve().parent.parent
GUIDE = REPO / "docs" / "workshop.md"
TOML = REPO / "docs" / "workshop.toml"
FIGURES = REPO / "docs" / "figures"
PROMPT = r"halab( \(probing\))?> "

Say = Callable[[str], None]


def _say(line: str) -> None:
    print(line, flush=True)


# ---------------------------------------------------------------- the TOML, read and checked


@dataclass(frozen=True)
class Command:
    """One command line as the guide prints it, and what the runner runs for it."""
    text: str
    module: str
    argv: tuple[str, ...]

    @classmethod
    def parse(cls, text: str, where: str) -> "Command":
        words = shlex.split(text)
        if words[:1] == ["sudo"]:  # the runner is root already, or runs the lab through User-mode Linux
            words = words[1:]
        if words[:2] != ["python", "-m"] or len(words) < 3 or not words[2].startswith("labs."):
            raise LabError(f"{where}: `{text}` is not a `python -m labs.X` command")
        return cls(text, words[2], tuple(words[3:]))


@dataclass(frozen=True)
class Step:
    """A line typed into an interactive lab (`send`), what must appear after it (`expect`,
    regular expressions, in order), or a pause (`wait` seconds)."""
    send: str | None
    expect: tuple[str, ...]
    wait: float
    timeout: float


@dataclass(frozen=True)
class Claim:
    """One checkable statement of the guide about one of an exercise's commands (`command`,
    1-based) or interactive sessions (`session`). What it reads: a scenario run's summary
    (`scenario`; `phase` in it is the record of the phase named by `phase`), a phase's
    expectation (`expectation` kind, `vip`, `host`) or its clients (`clients` = an LVS
    VIP); a `--check`'s status.json (`status`); a sweep's
    runs (`sweep_value`, "*" for all); a bench part's rows (`bench`); the command's output
    (`output`, a regular expression) or exit status (`exit`). What it says: `equals`,
    `at_least`, `at_most` (field -> value; dotted fields go into dicts; a list against a
    dict compares its keys), `matches` (field -> a regular expression its text contains),
    `window` (the model's from the configs' timers, as printed:
    "0.69–0.94"; a run widens its end by the process starts and the fault's application it
    measured, and its measured_s must fall inside that). `measured` is the guide's measured figure, printed beside
    today's (`field`, measured_s by default) and not judged: a run's timing depends on
    where the fault lands in the advert and check cycles."""
    says: str
    command: int | None = None
    session: int | None = None
    scenario: str | None = None
    phase: str = "inject"
    expectation: str | None = None
    vip: str | None = None
    host: str | None = None
    clients: str | None = None
    status: bool = False
    sweep_value: str | None = None
    bench: str | None = None
    output: str | None = None
    exit: int | None = None
    equals: dict[str, Any] = field(default_factory=dict)
    at_least: dict[str, float] = field(default_factory=dict)
    at_most: dict[str, float] = field(default_factory=dict)
    matches: dict[str, str] = field(default_factory=dict)
    window: str | None = None
    measured: str | None = None
    field: str = "measured_s"


@dataclass(frozen=True)
class Figure:
    """docs/figures/NAME: `file` of the run `command` (or `session`) made, of its
    `scenario`'s run folder where the command runs several."""
    name: str
    file: str
    command: int | None = None
    session: int | None = None
    scenario: str | None = None


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    minutes: float
    quick: bool
    commands: tuple[Command, ...]
    sessions: tuple[tuple[Command, tuple[Step, ...]], ...]
    claims: tuple[Claim, ...]
    figures: tuple[Figure, ...]
    files: dict[str, str]  # a file the exercise has you make -> the repository file the runner copies for it
    not_run: dict[str, str]  # a command of the guide the runner does not run -> why
    covered_by: str | None  # a lab test that already runs the exercise (the workshop test skips it)


@dataclass(frozen=True)
class Guide:
    exercises: dict[str, Exercise]

    def select(self, ids: list[str]) -> list[Exercise]:
        unknown = [i for i in ids if i not in self.exercises]
        if unknown:
            raise LabError(f"no exercise {', '.join(unknown)} in {TOML.name}; the exercises: {', '.join(self.exercises)}")
        return [self.exercises[i] for i in dict.fromkeys(ids)]

    def figures(self, names: list[str]) -> list[tuple[Exercise, Figure]]:
        """The figures named (all when none is), each with its exercise."""
        wanted = [(e, f) for e in self.exercises.values() for f in e.figures if not names or f.name in names]
        unknown = sorted(set(names) - {f.name for _, f in wanted})
        if unknown:
            every = ", ".join(f.name for e in self.exercises.values() for f in e.figures)
            raise LabError(f"no figure {', '.join(unknown)} in {TOML.name}; the figures: {every}")
        return wanted

    @property
    def quick(self) -> list[str]:
        return [i for i, e in self.exercises.items() if e.quick]

    @property
    def minutes(self) -> float:
        return sum(e.minutes for e in self.exercises.values())


EXERCISE_KEYS = {"title", "minutes", "quick", "commands", "sessions", "claims", "figures", "files", "not_run", "covered_by"}
STEP_KEYS = {"send", "expect", "wait", "timeout"}


def _table(raw: dict[str, Any], where: str, required: set[str], optional: set[str]) -> dict[str, Any]:
    """`raw` with its required keys present and no key it does not know (a typo)."""
    missing = sorted(required - set(raw))
    unknown = sorted(set(raw) - required - optional)
    if missing:
        raise LabError(f"{where} lacks {', '.join(f'`{k}`' for k in missing)}")
    if unknown:
        raise LabError(f"{where} has unknown key(s) {', '.join(f'`{k}`' for k in unknown)}")
    return raw


def _claim(raw: dict[str, Any], where: str, exercise: dict[str, Any]) -> Claim:
    names = set(Claim.__dataclass_fields__)
    c = Claim(**_table(raw, where, {"says"}, names - {"says"}))
    targets = [k for k in ("command", "session") if getattr(c, k) is not None]
    if len(targets) != 1:
        raise LabError(f"{where} ({c.says!r}): give one of `command` or `session`")
    count = len(exercise.get("commands", [])) if c.command is not None else len(exercise.get("sessions", []))
    if not 1 <= (c.command or c.session or 0) <= count:
        raise LabError(f"{where} ({c.says!r}): no {targets[0]} {c.command or c.session} in the exercise")
    selectors = [k for k in ("scenario", "status", "sweep_value", "bench", "output", "exit")
                 if getattr(c, k) not in (None, False)]
    if len(selectors) > 1 or (not selectors and c.session is None):
        raise LabError(f"{where} ({c.says!r}): say what it reads: one of `scenario`, `status`, `sweep_value`, "
                       "`bench`, `output`, `exit`")
    return c


def parse_window(text: str) -> tuple[float, float]:
    lo, _, hi = text.replace("–", "-").partition("-")
    try:
        return float(lo), float(hi)
    except ValueError:
        raise LabError(f"window {text!r}: write it as the guide prints it, e.g. 0.69–1.03") from None


def sections(guide: str) -> dict[str, str]:
    """The guide's numbered sections (`## 2. A graceful stop`), by number; "" is the text
    before the first."""
    parts = re.split(r"^## (\w+)\. ", guide, flags=re.M)
    return {"": parts[0], **{parts[n]: parts[n + 1] for n in range(1, len(parts) - 1, 2)}}


def guided_commands(section: str) -> list[str]:
    """The command lines of a section's code blocks (`python -m labs...`, with or without sudo)."""
    blocks = re.findall(r"^```\n(.*?)^```", section, flags=re.M | re.S)
    return [line.strip() for b in blocks for line in b.splitlines()
            if re.match(r"(sudo )?python -m labs\.", line.strip())]


def _exercise(key: str, raw: dict[str, Any], text: str) -> Exercise:
    where = f"{TOML.name} [{key}]"
    _table(raw, where, {"title", "minutes", "quick"}, EXERCISE_KEYS)
    commands = tuple(Command.parse(c, where) for c in raw.get("commands", []))
    sessions = []
    for n, s in enumerate(raw.get("sessions", []), 1):
        _table(s, f"{where} session {n}", {"command", "steps"}, set())
        steps = tuple(Step(st.get("send"), tuple(st.get("expect", ())), float(st.get("wait", 0)),
                           float(st.get("timeout", 60)))
                      for st in (_table(st, f"{where} session {n} step", set(), STEP_KEYS) for st in s["steps"]))
        sessions.append((Command.parse(s["command"], where), steps))
    claims = tuple(_claim(c, f"{where} claim {n}", raw) for n, c in enumerate(raw.get("claims", []), 1))
    figures = tuple(Figure(**_table(f, f"{where} figure {n}", {"name", "file"}, {"command", "session", "scenario"}))
                    for n, f in enumerate(raw.get("figures", []), 1))
    e = Exercise(key, raw["title"], float(raw["minutes"]), bool(raw["quick"]), commands, tuple(sessions), claims,
                 figures, dict(raw.get("files", {})), dict(raw.get("not_run", {})), raw.get("covered_by"))
    _agrees(e, text, where)
    return e


def _agrees(e: Exercise, text: str, where: str) -> None:
    """The TOML says what the guide's section says: its commands, session lines, windows,
    quoted measurements, duration and figures are in that section, and every command the
    section prints is run or says why not."""
    lines = {line.strip() for line in text.splitlines()}
    title = text.splitlines()[0].strip()
    if title != e.title:
        raise LabError(f"{where}: title {e.title!r}, but the guide's section {e.id} is {title!r}")
    for c in (*e.commands, *(s for s, _ in e.sessions)):
        if c.text not in lines:
            raise LabError(f"{where}: `{c.text}` is not a line of the guide's section {e.id}")
    for s, steps in e.sessions:
        for st in steps:
            if st.send and not ({f"halab (probing)> {st.send}", f"halab> {st.send}"} & lines):
                raise LabError(f"{where}: the session line `{st.send}` is not in the guide's section {e.id}")
    prose = " ".join(text.split())  # a quote may wrap across lines
    for c in e.claims:
        for quoted in (c.window, c.measured):
            if quoted and " ".join(quoted.split()) not in prose:
                raise LabError(f"{where}: the guide's section {e.id} does not say {quoted!r} ({c.says!r})")
        if c.window:
            parse_window(c.window)
    for f in e.figures:
        if f"figures/{f.name}" not in text:
            raise LabError(f"{where}: the guide's section {e.id} does not show figures/{f.name}")
    if not re.search(rf"\bAbout {e.minutes:g} minutes?\b", prose):
        raise LabError(f"{where}: the guide's section {e.id} does not say it takes \"About {e.minutes:g} minutes\"")
    known = {c.text for c in (*e.commands, *(s for s, _ in e.sessions))} | set(e.not_run)
    for line in guided_commands(text):
        if line not in known:
            raise LabError(f"{where}: the guide's section {e.id} prints `{line}`: add it to `commands`, "
                           "or to `not_run` with the reason")


def load(toml_path: Path = TOML, guide_path: Path = GUIDE) -> Guide:
    """The exercises, checked against the guide; a missing or unknown key, or a claim the
    guide does not make, is one line (LabError)."""
    if not toml_path.exists() or not guide_path.exists():
        raise LabError(f"no {toml_path} or {guide_path}: the workshop runs from a checkout of halab")
    try:
        raw = tomllib.loads(toml_path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise LabError(f"{toml_path.name}: {e}") from None
    guide = sections(guide_path.read_text())
    missing = [k for k in guide if k and k not in raw]
    if missing:
        raise LabError(f"{toml_path.name}: no table for the guide's section(s) {', '.join(missing)}")
    exercises = {}
    for key, table in raw.items():
        if key not in guide:
            raise LabError(f"{toml_path.name} [{key}]: the guide has no section {key}")
        exercises[key] = _exercise(key, table, guide[key])
    total = sum(e.minutes for e in exercises.values())
    if not re.search(rf"\babout {total:g} minutes\b", " ".join(guide[""].split())):
        raise LabError(f"{guide_path.name}: its opening does not say the exercises take \"about {total:g} minutes\" "
                       f"(the sum of {toml_path.name}'s)")
    return Guide(exercises)


# ---------------------------------------------------------------- running commands


@dataclass
class Job:
    """One command the runner runs: a guide's command, or several scenario runs that share
    it (`scenarios`, in the order asked); who asked (`uses`: (exercise, command index))."""
    module: str
    argv: list[str]
    files: dict[str, str]
    scenarios: list[str] = field(default_factory=list)
    steps: tuple[Step, ...] | None = None
    uses: list[tuple[str, str]] = field(default_factory=list)

    def line(self) -> str:
        return shlex.join(["python", "-m", self.module, *self.full_argv()])

    def full_argv(self) -> list[str]:
        return [*self.argv, *(["--scenario", ",".join(self.scenarios)] if self.scenarios else [])]


@dataclass
class Outcome:
    """What a job left: its exit status, output, wall time, and its results root."""
    exit: int
    output: str
    seconds: float
    results: Path
    session_failures: list[str] = field(default_factory=list)


def _split_scenarios(argv: tuple[str, ...]) -> tuple[list[str], list[str], str | None]:
    """labs.run's arguments without --scenario and --target; the scenarios; the target."""
    rest, names, target = [], [], None
    words = iter(argv)
    for w in words:
        flag, eq, value = w.partition("=")
        if flag in ("--scenario", "--target"):
            value = value if eq else next(words, "")
            if flag == "--scenario":
                names += [n.strip() for n in value.split(",") if n.strip()]
            else:
                target = value
        else:
            rest.append(w)
    return rest, names, target


def _scenario_run(c: Command) -> bool:
    return c.module == "labs.run" and not {"--check", "--cli", "--list"} & set(c.argv) and "--dump" not in c.argv


def _defaults_only(rest: list[str], names: list[str], target: str | None) -> str | None:
    """The target to keep: None where it is every scenario's own default (those runs can
    share a command with runs of other scenarios); a scenario file of the user's keeps it."""
    if target is None or any(n.endswith(".py") for n in names):
        return target
    try:
        args = run_command.parse(rest)
    except SystemExit:
        raise LabError(f"`python -m labs.run {shlex.join(rest)}` is not a command labs.run takes") from None
    spec = run_command.lab_of(args).spec
    return None if all(load_scenario(n).default_target(spec) == target for n in names) else target


def plan(exercises: list[Exercise], share: bool, repeat: int = 1) -> list[Job]:
    """The jobs for these exercises' commands and sessions: each command as the guide
    prints it, or shared: scenario runs whose commands differ only in their scenarios (and
    targets that are each scenario's default) run as one `labs.run`, and a command two
    exercises print runs once."""
    jobs: dict[Any, Job] = {}
    for e in exercises:
        own = bool(e.files) and e.id  # a command run among an exercise's files is that exercise's
        for n, c in enumerate(e.commands, 1):
            repeated = ["--repeat", str(repeat)] if repeat > 1 and _scenario_run(c) else []
            key: Any = (e.id, n)
            argv, names = [*c.argv, *repeated], []
            if share:
                key = ("cmd", c.module, c.argv, own)
                rest, listed, target = _split_scenarios(c.argv)
                if _scenario_run(c) and listed:
                    target = _defaults_only(rest, listed, target)
                    argv, names = [*rest, *(["--target", target] if target else []), *repeated], listed
                    key = ("run", tuple(argv), own)
            job = jobs.setdefault(key, Job(c.module, argv, e.files))
            job.scenarios += [s for s in names if s not in job.scenarios]
            job.uses.append((e.id, f"command {n}"))
        for n, (c, steps) in enumerate(e.sessions, 1):
            jobs[(e.id, "session", n)] = Job(c.module, list(c.argv), e.files, steps=steps, uses=[(e.id, f"session {n}")])
    return list(jobs.values())


def _stream(cmd: list[str], say: Say) -> tuple[int, str]:
    """Run a command, its output shown as it comes (labs take minutes) and kept."""
    p = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert p.stdout is not None
    out = []
    for line in p.stdout:
        out.append(line)
        say(f"    {line.rstrip()}")
    return p.wait(), "".join(out)


def _expand(argv: list[str], files: dict[str, Path]) -> list[str]:
    """The words as the guide's shell and its reader would have them: glob patterns
    expanded in the checkout (topologies/seed_article/*.conf), and a file the exercise
    has you make (./my_fault.py) the runner's copy of it."""
    out = []
    for w in argv:
        w = ",".join(str(files.get(x.removeprefix("./"), x)) for x in w.split(","))
        found = sorted(glob.glob(w, root_dir=REPO)) if any(ch in w for ch in "*?[") else []
        out += found or [w]
    return out


def run_job(job: Job, folder: Path, say: Say) -> Outcome:
    """Run one job in the checkout, with its results (and the files it needs) under `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, source in job.files.items():
        shutil.copy(REPO / source, folder / name)
    argv = _expand(job.full_argv(), {name: folder / name for name in job.files})
    if job.module in ("labs.run", "labs.sweep", "labs.bench"):
        argv += ["--results", str(folder / "results")]
    cmd = [sys.executable, "-m", job.module, *argv]
    t = time.monotonic()
    if job.steps is not None:
        code, out, failures = _session(cmd, job.steps)
    else:
        (code, out), failures = _stream(cmd, say), []
    return Outcome(code, out, time.monotonic() - t, folder / "results", failures)


def _session(cmd: list[str], steps: tuple[Step, ...]) -> tuple[int, str, list[str]]:
    """An interactive lab driven as a participant types: each step's line, what must
    appear after it, the pauses. A step whose text does not come ends the session."""
    import pexpect  # pexpect: only for the guide's interactive sessions (a test dependency, not halab's)

    class Echo:
        def __init__(self) -> None:
            self.seen: list[str] = []

        def write(self, text: str) -> None:
            self.seen.append(text)
            sys.stdout.write(text)

        def flush(self) -> None:
            sys.stdout.flush()

    echo = Echo()
    child = pexpect.spawn(cmd[0], cmd[1:], cwd=str(REPO), encoding="utf-8", timeout=240, dimensions=(50, 400))
    child.logfile_read = echo
    failures: list[str] = []
    try:
        child.expect(PROMPT, timeout=300)
        for st in steps:
            if st.send is None:
                time.sleep(st.wait)
                continue
            child.sendline(st.send)
            if st.send == "exit":  # the participant leaves: the lab tears itself down
                break
            for pattern in st.expect:
                try:
                    child.expect(pattern, timeout=st.timeout)
                except (pexpect.TIMEOUT, pexpect.EOF):
                    tail = "".join(echo.seen)[-300:].replace("\n", " | ")
                    failures.append(f"`{st.send}`: /{pattern}/ did not appear within {st.timeout:g} s (last output: {tail})")
                    raise
            child.expect(PROMPT, timeout=st.timeout)
        else:
            child.sendline("exit")
        child.expect(pexpect.EOF, timeout=180)
    except (pexpect.TIMEOUT, pexpect.EOF):
        if not failures:
            failures.append(f"the session ended early: {''.join(echo.seen)[-300:]}")
        if child.isalive():  # leave as a participant would: the lab tears itself down
            child.sendline("exit")
            child.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=180)
    finally:
        child.close(force=True)
    return child.exitstatus if child.exitstatus is not None else 1, "".join(echo.seen), failures


# ---------------------------------------------------------------- what a job's folders hold


def summaries(root: Path) -> list[dict[str, Any]]:
    """Every run's summary.json under a results root (a session's too), with its folder."""
    return [{**json.loads(p.read_text()), "folder": str(p.parent)} for p in sorted(root.glob("*/summary.json"))
            if not p.parent.is_symlink()]  # results/latest is one of them again


def _stem(name: str | None) -> str:
    return Path(name or "").stem


def _phase(summary: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((p for p in summary.get("phases", []) if p["phase"] == name), None)


def base_windows(summary: dict[str, Any]) -> dict[tuple[int | None, str], list[tuple[float, float | None]]]:
    """The model's windows of a run without what the run itself measured (the cost of
    starting a process, the time the fault took to apply): the timers' part alone, as the
    guide quotes it — (step, phase) -> each expectation's (earliest, latest), in the order
    of the summary's. The model is computed again from the run's configs with no process
    start cost; the analysis adds the fault's application time, the model never does."""
    folder = Path(summary["folder"])
    info = {**json.loads((folder / "run.json").read_text()), "process_start_s": 0.0}
    m = model.load(folder, info)
    steps = summary.get("steps") or [{"n": None, "scenario": summary["scenario"], "target": summary["target"]}]
    out: dict[tuple[int | None, str], list[tuple[float, float | None]]] = {}
    for st in steps:
        for row in expectations.to_json(model.for_scenario(load_scenario(st["scenario"]), m, st["target"])):
            w = row.get("window") or {}
            out.setdefault((st["n"], row["phase"]), []).append((w.get("earliest_s", 0.0), w.get("latest_s")))
    return out


def _with_base(e: dict[str, Any], summary: dict[str, Any], ph: dict[str, Any]) -> dict[str, Any]:
    """An evaluated expectation with its window without the run's own costs (`_base`)."""
    index = ph["expectations"].index(e)
    return {**e, "_base": base_windows(summary)[(ph.get("step"), ph["phase"])][index]}


def _objects(c: Claim, out: Outcome) -> tuple[list[Any], str | None]:
    """What the claim reads, one object per run (a --repeat gives several); or why none."""
    if c.status:
        found = sorted(p for p in out.results.glob("*/status.json") if not p.parent.is_symlink())
        return ([json.loads(p.read_text()) for p in found], None) if found else ([], "no status.json: no lab came up")
    if c.sweep_value is not None:
        (sweep,) = sorted(out.results.glob("*-sweep-*/sweep.json")) or [None]
        if sweep is None:
            return [], "no sweep.json"
        doc = json.loads(sweep.read_text())
        runs = [r for v in doc["values"] if c.sweep_value in ("*", v["value"]) for r in v.get("runs", [])]
        objs = []
        for r in runs:  # each run's first move of its inject phase (labs.analysis.sweep)
            summary = {**json.loads((sweep.parent / r["folder"] / "summary.json").read_text()),
                       "folder": str(sweep.parent / r["folder"])}
            ph = _phase(summary, "inject") or {"expectations": []}
            move = next((e for e in ph["expectations"] if e["kind"] == "move"), None)
            objs.append({**r, **({"_base": _with_base(move, summary, ph)["_base"]} if move else {})})
        return objs, None if objs else f"no run of {c.sweep_value}"
    if c.bench is not None:
        (bench,) = sorted(out.results.glob("bench/*/bench.json"))[-1:] or [None]
        if bench is None:
            return [], "no bench.json"
        part = json.loads(bench.read_text()).get(c.bench)
        return (part if isinstance(part, list) else [part]) if part else [], None
    runs = [s for s in summaries(out.results) if c.scenario is None or _stem(s.get("scenario")) == _stem(c.scenario)]
    if not runs:
        return [], f"no run of {c.scenario or 'the session'}"
    objs = []
    for s in runs:
        ph = _phase(s, c.phase)
        if c.expectation is None and c.clients is None:
            objs.append({**s, "phase": ph})  # the verdict, its reason, and the phase's ipvs/vrrp changes
            continue
        if ph is None:
            return [], f"no {c.phase} phase in {s['folder']}"
        if c.clients is not None:
            objs.append(ph["clients"].get(c.clients, {}))
            continue
        e = next((e for e in ph["expectations"] if e["kind"] == c.expectation
                  and (c.vip is None or e.get("vip") == c.vip) and (c.host is None or e.get("host") == c.host)), None)
        if e is None:
            about = " ".join(x for x in (c.vip, c.host) if x)
            return [], f"no {c.expectation} expectation{' about ' + about if about else ''} in the {c.phase} phase"
        objs.append(_with_base(e, s, ph) if c.window else e)
    return objs, None


def _get(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            raise KeyError(path)
        obj = obj[part]
    return obj


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(actual, dict) and isinstance(expected, list):
        return sorted(actual) == sorted(expected)
    return bool(actual == expected)


def _model_window(obj: dict[str, Any]) -> tuple[float | None, float | None]:
    m = obj.get("model")
    if isinstance(m, dict):
        return m.get("earliest_s"), m.get("latest_s")
    return obj.get("model_earliest_s"), obj.get("model_latest_s")


def window_problems(quoted: str, obj: dict[str, Any]) -> list[str]:
    """The guide's window against the model's without the run's own costs (`_base`, exact
    to the decimals printed), and the measured figure against the run's whole window."""
    lo, hi = parse_window(quoted)
    decimals = len(quoted.replace("–", "-").partition("-")[2].partition(".")[2])
    earliest, latest = obj.get("_base", (None, None))
    if earliest is None or latest is None:
        return [f"the model gives no bounded window here (the guide: {quoted} s)"]
    out = []
    if abs(earliest - lo) > 0.5 * 10 ** -decimals + 1e-6 or abs(latest - hi) > 0.5 * 10 ** -decimals + 1e-6:
        out.append(f"the model's window is {earliest:.{decimals}f}–{latest:.{decimals}f} s (the guide: {quoted} s)")
    measured = obj.get("measured_s")
    whole = _model_window(obj)
    if measured is not None and None not in whole and not whole[0] <= measured <= whole[1]:
        out.append(f"measured {measured:.2f} s, outside the run's window {whole[0]:.2f}–{whole[1]:.2f} s")
    return out


def claim_problems(c: Claim, out: Outcome) -> list[str]:
    """Why the claim does not hold for this job's outcome (empty: it holds)."""
    if c.exit is not None:
        return [] if out.exit == c.exit else [f"exit {out.exit} (the guide: {c.exit})"]
    if c.output is not None:
        return [] if re.search(c.output, out.output, flags=re.M) else [f"/{c.output}/ is not in the output"]
    objs, why = _objects(c, out)
    if why or not objs:
        return [why or "nothing to read"]
    checks = [*(("equals", n, w) for n, w in c.equals.items()), *(("matches", n, p) for n, p in c.matches.items()),
              *(("at least", n, b) for n, b in c.at_least.items()), *(("at most", n, b) for n, b in c.at_most.items())]
    problems = []
    for obj in objs:
        for how, name, want in checks:
            try:
                got = _get(obj, name)
            except KeyError:
                problems.append(f"no `{name}`")
                continue
            problem = _check(how, name, got, want)
            if problem:
                problems.append(problem)
        if c.window:
            problems += window_problems(c.window, obj)
    return list(dict.fromkeys(problems))


def _check(how: str, name: str, got: Any, want: Any) -> str | None:
    """What is wrong with a claim's field `name` read as `got`, under one of its tests
    (equals, matches, at least, at most), or None."""
    if how == "equals":
        return None if _same(got, want) else f"`{name}` is {got!r} (the guide: {want!r})"
    if how == "matches":
        return None if re.search(want, str(got)) else f"`{name}` does not match /{want}/: {str(got)[:200]!r}"
    if got is None or (got < want if how == "at least" else got > want):
        return f"`{name}` is {got!r} (the guide: {how} {want:g})"
    return None


def measured_values(c: Claim, out: Outcome) -> list[Any]:
    """The claim's `field` in each object it reads (what the guide's `measured` quotes)."""
    objs, _ = ([], None) if c.output is not None or c.exit is not None else _objects(c, out)
    values = []
    for obj in objs:
        try:
            values.append(_get(obj, c.field))
        except KeyError:
            pass
    return values


# ---------------------------------------------------------------- check and figures


@dataclass
class Report:
    failures: list[str] = field(default_factory=list)
    measured: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # exercise -> the wall time of its jobs
    held: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures


def _fmt(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def judge(exercises: list[Exercise], outcomes: dict[tuple[str, str], Outcome], report: Report) -> None:
    """Each claim of these exercises against the outcome of the command it is about."""
    for e in exercises:
        for n, (_, steps) in enumerate(e.sessions, 1):
            out = outcomes.get((e.id, f"session {n}"))
            for failure in out.session_failures if out else []:
                report.failures.append(f"exercise {e.id}, session {n}: {failure}")
            if out and not out.session_failures:  # what each step had to show, it showed
                report.held += sum(bool(st.expect) for st in steps)
        for n, command in enumerate(e.commands, 1):
            out = outcomes.get((e.id, f"command {n}"))
            expected = {c.exit for c in e.claims if c.command == n and c.exit is not None}
            if out and out.exit not in {0, 1} | expected:  # 1: a verdict failed, which a claim may expect
                report.failures.append(f"exercise {e.id}: `{command.text}` ended with exit {out.exit}, not a run")
        for c in e.claims:
            used = f"command {c.command}" if c.command is not None else f"session {c.session}"
            out = outcomes.get((e.id, used))
            if out is None:
                continue  # not run (figures runs only what draws them)
            problems = claim_problems(c, out)
            if problems:
                report.failures.append(f"exercise {e.id}: {c.says}: {'; '.join(problems)}")
            else:
                report.held += 1
            if c.measured:
                values = measured_values(c, out)
                report.measured.append(f"exercise {e.id}: {c.says}: {c.field} {' '.join(map(_fmt, values)) or '-'} "
                                       f"(the guide: {c.measured})")


def _run_all(jobs: list[Job], root: Path, say: Say) -> dict[tuple[str, str], Outcome]:
    outcomes: dict[tuple[str, str], Outcome] = {}
    for k, job in enumerate(jobs, 1):
        users = ", ".join(dict.fromkeys(e for e, _ in job.uses))
        say(f"=== [{k}/{len(jobs)}] exercise {users}: {job.line()}")
        out = run_job(job, root / f"{k:02d}", say)
        say(f"=== [{k}/{len(jobs)}] exit {out.exit} after {out.seconds:.0f} s")
        for use in job.uses:
            outcomes[use] = out
    return outcomes


def check(guide: Guide, ids: list[str], root: Path, share: bool = True, repeat: int = 1, say: Say = _say) -> Report:
    """Run these exercises' commands and sessions (shared where they can be) and judge
    every claim; the report names each exercise and claim that does not hold."""
    exercises = guide.select(ids)
    jobs = plan(exercises, share, repeat)
    outcomes = _run_all(jobs, root, say)
    report = Report()
    for e in exercises:
        mine = {id(o): o for (x, _), o in outcomes.items() if x == e.id}
        report.seconds[e.id] = sum(o.seconds for o in mine.values())
    judge(exercises, outcomes, report)
    return report


def figure_folder(out: Outcome, f: Figure, command: Command | None) -> Path:
    """The folder whose `f.file` is the figure: a sweep's, or its scenario's run folder (the
    figure's `scenario`, else the one its command runs; a session's has none)."""
    if f.file.startswith("sweep"):
        found = sorted(out.results.glob("*-sweep-*"))
    else:
        named = _split_scenarios(command.argv)[1] if command else []
        scenario = f.scenario or (named[0] if len(named) == 1 else None)
        found = [Path(s["folder"]) for s in summaries(out.results)
                 if scenario is None or _stem(s.get("scenario")) == _stem(scenario)]
    if len(found) != 1:
        raise LabError(f"figures/{f.name}: {len(found)} run folders in {out.results} could have drawn it: "
                       "name its `scenario` in the TOML")
    return found[0]


def figures(guide: Guide, names: list[str], root: Path, dest: Path = FIGURES, say: Say = _say) -> Report:
    """Run each figure's command as the guide prints it (one at a time: a figure measured
    on a busy machine is worthless), copy the PNG it drew to `dest` under the figure's
    name, and judge that command's claims on the same run."""
    wanted = guide.figures(names)
    by_use: dict[tuple[str, str], list[Figure]] = {}
    for e, f in wanted:
        by_use.setdefault((e.id, f"command {f.command}" if f.command else f"session {f.session}"), []).append(f)
    exercises = {e.id: e for e, _ in wanted}
    jobs = [next(j for j in plan([exercises[eid]], share=False) if (eid, use) in j.uses) for eid, use in by_use]
    outcomes = _run_all(jobs, root, say)
    report = Report()
    for (eid, use), figs in by_use.items():
        out = outcomes[(eid, use)]
        for f in figs:
            try:
                command = exercises[eid].commands[f.command - 1] if f.command else None
                source = figure_folder(out, f, command) / f.file
                shutil.copy(source, dest / f.name)
                say(f"figures/{f.name} <- {source}")
            except (LabError, OSError) as e:
                report.failures.append(f"exercise {eid}: figures/{f.name}: {e}")
    judge(list(exercises.values()), outcomes, report)
    return report


def print_report(report: Report, guide: Guide, say: Say = _say) -> None:
    for line in report.measured:
        say(f"measured: {line}")
    for eid, seconds in report.seconds.items():
        say(f"exercise {eid}: its commands took {seconds / 60:.1f} min (the guide: about {guide.exercises[eid].minutes:g})")
    for line in report.failures:
        say(f"DISAGREES: {line}")
    say(f"{report.held} claim(s) hold, {len(report.failures)} do not")


# ---------------------------------------------------------------- the command


def parse(argv: list[str]) -> argparse.Namespace:
    p = Parser(prog=PROG, description=describe(__doc__))
    sub = p.add_subparsers(dest="what", required=True)
    c = sub.add_parser("check", help="run exercises and judge the guide's claims about them")
    c.add_argument("exercises", nargs="*", metavar="EXERCISE", help="exercise ids, as the guide numbers them (2, 5b, ...)")
    c.add_argument("--all", action="store_true", help="every exercise")
    c.add_argument("--quick", action="store_true", help="the exercises the TOML marks quick (the lab test's)")
    c.add_argument("--as-typed", action="store_true",
                   help="run every command exactly as the guide prints it, none shared (how long each exercise takes)")
    c.add_argument("--repeat", type=int, default=1, metavar="N",
                   help="run each scenario N times: every claim judged on each, the measured figures listed")
    f = sub.add_parser("figures", help="re-make docs/figures/ from the commands that drew them, one at a time")
    f.add_argument("names", nargs="*", metavar="NAME", help="figure file names (default: all)")
    for s in (c, f):
        s.add_argument("--results", type=Path, default=results.DEFAULT_ROOT, metavar="DIR",
                       help="where the runs go (default: results)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)

    def go() -> int:
        guide = load()
        if args.what == "check":
            ids = list(guide.exercises) if args.all else guide.quick if args.quick else args.exercises
            if not ids or (args.all or args.quick) and args.exercises:
                raise LabError("name the exercises (e.g. 2 5b), or give --all or --quick alone")
            if args.repeat < 1:
                raise LabError(f"--repeat {args.repeat}: give a count of 1 or more")
            guide.select(ids)
            results.check_writable(args.results)
            root = results.new_folder(args.results.absolute(), "workshop", "check")
            report = check(guide, ids, root, share=not args.as_typed, repeat=args.repeat)
        else:
            guide.figures(args.names)
            results.check_writable(args.results)
            root = results.new_folder(args.results.absolute(), "workshop", "figures")
            report = figures(guide, args.names, root)
        print_report(report, guide)
        results.finish(root, latest=False)
        return 0 if report.ok else 1

    return entry(PROG, go)


if __name__ == "__main__":
    sys.exit(main())
