#!/usr/bin/env python3
"""Generate labs/kaconfig/keywords.json: keepalived v2.2.7's configuration keyword table.

Why: keepalived's parser (lib/parser.c, process_stream) is keyword driven. Whether
`word {` opens a nested block of keywords, a block of data words (a "value block"), or is
just a line whose last word happens to be `{`, depends on the keyword table that the
install_keyword_root / install_keyword / install_sublevel / install_sublevel_end calls
build at start-up. A reader that is to see a config exactly as keepalived does needs that
table, and copying it by hand would rot; this script derives it from the C sources.

How:
  1. Every .c file under keepalived/ and lib/ at the tag is read from the git dir and run
     through a small C preprocessor that decides each #if from DECISIONS below (what
     Debian's build of 2.2.7 defines). A conditional on a macro not in DECISIONS is
     "undecided": the run fails if code under it installs keywords (so a new #ifdef
     around an install call cannot be silently lost).
  2. Function definitions are cut out of the token stream; a call graph tells which
     functions install keywords (directly or through helpers such as
     install_checker_common_keywords) and which read a value block (alloc_value_block or
     read_value_block, directly or through a helper).
  3. keepalived runs the parser once per process, each with its own table:
     the parent (core/main.c global_init_keywords), vrrp (vrrp_init_keywords), checker
     (check_init_keywords) and bfd (bfd_init_keywords); `keepalived --config-test` runs
     all four parses. Each of those is interpreted statement by statement: calls are
     followed with their arguments bound (install_http_ssl_check_keyword("HTTP_GET"),
     install_checker_common_keywords(true), install_keyword_conditional(...)), `if`s are
     decided when their condition is known (parameters, prog_type, `reload`, local bools)
     and both branches are taken otherwise, and install_* calls build the tree with
     keepalived's own rules (install_keyword adds to the last keyword at depth `sublevel`;
     the children of an inactive root keyword are not installed at all).
  4. The four tables are merged (a root is taken from the processes where it is active:
     where it is inactive keepalived skips its whole block unread) and written as JSON.

Usage: tools/keepalived_keywords.py GIT_DIR [--tag v2.2.7] [--out labs/kaconfig/keywords.json]
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Union

# ---------------------------------------------------------------------------------------
# Preprocessor decisions: how Debian built keepalived 2.2.7 (bookworm, package 1:2.2.7-1).
# Source of each: `keepalived -v` (its "Config options" and "System options" lists are
# built by add_config_opt / add_system_opt in configure.ac next to the AC_DEFINE of the
# macro), the configure options it prints, and configure.ac at v2.2.7.
# True = defined (value 1), False = not defined. Only macros that decide whether keyword
# install code is compiled matter (`--decisions` prints which install lines each one
# decided); the others are listed so that the code the script reads (function bodies, for
# the call graph) is the code Debian compiled rather than a guess.
# ---------------------------------------------------------------------------------------
DECISIONS: dict[str, bool] = {
    # Config options printed by keepalived -v
    "_WITH_LVS_": True,                    # LVS
    "_WITH_VRRP_": True,                   # VRRP
    "_WITH_VRRP_AUTH_": True,              # VRRP_AUTH
    "_HAVE_VRRP_VMAC_": True,              # VRRP_VMAC
    "_WITH_JSON_": True,                   # JSON
    "_WITH_BFD_": True,                    # BFD (--enable-bfd)
    "_WITH_REGEX_CHECK_": True,            # REGEX (--enable-regex)
    "_WITH_NFTABLES_": True,               # NFTABLES
    "_WITH_FIREWALL_": True,               # configure.ac: defined when iptables or nftables is used
    "_WITH_UNICAST_CHKSUM_COMPAT_": True,  # OLD_CHKSUM_COMPAT
    "_WITH_SNMP_": True,                   # --enable-snmp (SNMP_* options)
    "_WITH_SNMP_VRRP_": True,              # SNMP_VRRP
    "_WITH_SNMP_CHECKER_": True,           # SNMP_CHECKER
    "_WITH_SNMP_RFC_": True,               # configure.ac: defined with SNMP_RFCV2 or SNMP_RFCV3
    "_WITH_SNMP_RFCV2_": True,             # SNMP_RFCV2
    "_WITH_SNMP_RFCV3_": True,             # SNMP_RFCV3
    "_WITH_DBUS_": True,                   # DBUS
    "_USE_SYSTEMD_NOTIFY_": True,          # SYSTEMD_NOTIFY
    # Defined unless disabled; a disabled one would show in the config options
    "_WITH_TRACK_PROCESS_": True,          # no DISABLE_TRACK_PROCESS in the config options
    "_WITH_LINKBEAT_": True,               # no NO_LINKBEAT in the config options
    # Not defined: none of these shows in the options keepalived -v prints
    "_WITH_IPTABLES_": False,              # would add system option IPTABLES
    "_HAVE_LIBIPSET_": False,              # only with iptables; would add LIBIPSET
    "_ONE_PROCESS_DEBUG_": False,          # would add ONE_PROCESS_DEBUG
    "_WITH_REGEX_TIMERS_": False,          # --enable-regex-timers, debug only
    "_REGEX_DEBUG_": False,                # REGEX_DEBUG
    "_CHECKER_DEBUG_": False,              # CHECKER_DEBUG
    "_MEM_CHECK_": False,                  # MEM_CHECK
    "_MEM_CHECK_LOG_": False,              # MEM_CHECK_LOG
    "_TRACK_PROCESS_DEBUG_": False,        # TRACK_PROCESS_DEBUG
    "_DUMP_KEYWORDS_": False,              # DUMP_KEYWORDS
    "_INCLUDE_UNUSED_CODE_": False,        # never defined by configure
    "THREAD_DUMP": False,                  # THREAD_DUMP (--enable-dump-threads)
    "ENABLE_LOG_TO_FILE": False,           # LOG_FILE_APPEND / --enable-log-file
    "_LIBNL_DYNAMIC_": False,              # LIBNL_DYNAMIC
    "_HAVE_LIBNL1_": False,                # system option LIBNL3 means libnl-3
    "LIBNL_DEBUG": False,
    "TMP_TRACK_FILE_DEBUG": False,
    # System options printed by keepalived -v
    "_HAVE_VRRP_IPVLAN_": True,            # VRRP_IPVLAN
    "_HAVE_VRF_": True,                    # VRF
    "_WITH_SO_MARK_": True,                # SO_MARK
    "_HAVE_IPVS_SYNCD_ATTRIBUTES_": True,  # IPVS_SYNCD_ATTRIBUTES
    "_HAVE_IPVS_TUN_TYPE_": True,          # IPVS_TUN_TYPE
    "_HAVE_IPVS_TUN_CSUM_": True,          # IPVS_TUN_CSUM
    "_HAVE_IPVS_TUN_GRE_": True,           # IPVS_TUN_GRE
    "_WITH_LVS_64BIT_STATS_": True,        # IPVS_64BIT_STATS
    "LIBIPVS_USE_NL": True,                # LIBIPVS_NETLINK
    # Library / kernel header facts
    # configure.ac's test for SSL_set_tlsext_host_name() compiles a program that uses an
    # undefined type (request_t), so it always "fails" and always defines the macro.
    "_HAVE_SSL_SET_TLSEXT_HOST_NAME_": True,
    "IP_VS_SVC_F_SCHED1": True,            # linux/ip_vs.h since 3.11; built with 5.19 headers
    # A knob for users of pcre2 that neither pcre2.h nor keepalived define
    "PCRE2_DONT_USE_JIT": False,
}

# The processes keepalived parses the configuration in, and what the parse knows about
# itself there: `prog_type` (runtime, compared in init_bfd_keywords) and `reload` (false
# on the first parse, which is also the one `keepalived --config-test` does).
PROCESSES: list[tuple[str, str, str]] = [
    # (name, file, function)
    ("parent", "keepalived/core/main.c", "global_init_keywords"),
    ("vrrp", "keepalived/vrrp/vrrp_parser.c", "vrrp_init_keywords"),
    ("checker", "keepalived/check/check_parser.c", "check_init_keywords"),
    ("bfd", "keepalived/bfd/bfd_parser.c", "bfd_init_keywords"),
]
PROG_TYPES = {"parent": "PROG_TYPE_PARENT", "vrrp": "PROG_TYPE_VRRP", "checker": "PROG_TYPE_CHECKER", "bfd": "PROG_TYPE_BFD"}

# Calls that build the table (lib/parser.c). The *_handler ones only attach close handlers.
PRIMITIVES = {"install_keyword_root", "install_keyword", "install_sublevel", "install_sublevel_end",
              "install_root_end_handler", "install_sublevel_end_handler"}
# Calls that read a value block: lines up to `}` whose words are data (lib/parser.c).
VALUE_READERS = {"alloc_value_block", "read_value_block"}

# Overrides: facts about a keyword that the call graph cannot see, keyed by keyword path.
# Each becomes extra fields of that keyword's entry.
OVERRIDES: dict[tuple[str, ...], dict[str, object]] = {
    # vsg_handler() takes the group name as the second word and hands alloc_value_block()
    # a copy of the line without it ("alloc_value_block() does not expect a name after the
    # first word"): `virtual_server_group NAME {` then data lines. Any other value keyword
    # with a word between it and `{` gets "Block X has extra parameters".
    ("virtual_server_group",): {"name_before_block": True},
}

Value = Union[bool, None, "Lit", "Sym", "Alt"]


@dataclass(frozen=True)
class Lit:
    """A C string literal."""
    text: str


@dataclass(frozen=True)
class Sym:
    """A symbolic value: a function (handler), NULL or an enum constant such as PROG_TYPE_VRRP."""
    name: str


@dataclass(frozen=True)
class Alt:
    """One of several values, not known which (e.g. `want ? handler : ignore_handler`)."""
    options: tuple


class GenError(Exception):
    """The sources hold something this script cannot read faithfully: fix the script."""


# ---------------------------------------------------------------------------------------
# Reading the sources
# ---------------------------------------------------------------------------------------

def git_files(git_dir: str, tag: str) -> dict[str, str]:
    """All .c files under keepalived/ and lib/ at `tag`, read from the git dir (no work tree needed)."""
    listing = subprocess.run(["git", "-C", git_dir, "ls-tree", "-r", "--name-only", tag], capture_output=True, text=True)
    if listing.returncode:
        raise GenError(f"cannot list {tag} in {git_dir}: {listing.stderr.strip()}")
    names = listing.stdout.split()
    wanted = [n for n in names if n.endswith(".c") and (n.startswith("keepalived/") or n.startswith("lib/"))]
    out = {}
    for name in wanted:
        out[name] = subprocess.run(["git", "-C", git_dir, "show", f"{tag}:{name}"], check=True,
                                   capture_output=True).stdout.decode("utf-8", "replace")
    return out


def strip_comments(src: str) -> str:
    """Blank out comments (keeping newlines, so line numbers hold), leaving literals intact."""
    out: list[str] = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c in "\"'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            out.append(src[i:j + 1])
            i = j + 1
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("".join(ch if ch == "\n" else " " for ch in src[i:j]))
            i = j
        elif src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


_PP_TOKEN = re.compile(r"\s*(defined\b|\d+[uUlL]*|[A-Za-z_]\w*|&&|\|\||==|!=|<=|>=|<<|>>|[()!<>+\-*/])")


def pp_eval(expr: str, defined: dict[str, bool]) -> tuple[bool | None, set[str]]:
    """Evaluate an #if expression three-valued: (value or None if undecided, undecided macros).

    An expression beyond this evaluator (e.g. a function-like macro) is undecided.
    """
    try:
        return _pp_eval(expr, defined)
    except (GenError, StopIteration, KeyError, ZeroDivisionError):
        return None, set(re.findall(r"[A-Za-z_]\w*", expr)) - {"defined"}


def _pp_eval(expr: str, defined: dict[str, bool]) -> tuple[bool | None, set[str]]:
    toks: list[str] = []
    pos = 0
    expr = expr.strip()
    while pos < len(expr):
        m = _PP_TOKEN.match(expr, pos)
        if not m:
            raise GenError(f"cannot read #if expression {expr!r}")
        toks.append(m.group(1))
        pos = m.end()
        while pos < len(expr) and expr[pos].isspace():
            pos += 1
    unknown: set[str] = set()
    it = iter(toks + [""])
    cur = [next(it)]

    def take() -> str:
        t = cur[0]
        cur[0] = next(it)
        return t

    def primary() -> int | None:
        t = take()
        if t == "(":
            v = orexp()
            take()
            return v
        if t == "!":
            v = primary()
            return None if v is None else int(not v)
        if t == "defined":
            paren = cur[0] == "("
            if paren:
                take()
            name = take()
            if paren:
                take()
            if name in defined:
                return int(defined[name])
            unknown.add(name)
            return None
        if re.fullmatch(r"\d+[uUlL]*", t):
            return int(re.sub(r"[uUlL]", "", t))
        if name_ok(t):
            if t in defined:
                return int(defined[t])
            unknown.add(t)
            return None
        raise GenError(f"cannot read #if expression {expr!r}")

    def name_ok(t: str) -> bool:
        return bool(re.fullmatch(r"[A-Za-z_]\w*", t))

    def binop(sub: Callable[[], int | None], ops: set[str]) -> Callable[[], int | None]:
        def f() -> int | None:
            v = sub()
            while cur[0] in ops:
                op = take()
                w = sub()
                if v is None or w is None:
                    v = None
                else:
                    v = int({"==": v == w, "!=": v != w, "<": v < w, ">": v > w, "<=": v <= w, ">=": v >= w,
                             "+": v + w, "-": v - w, "*": v * w, "<<": v << w, ">>": v >> w}[op])
            return v
        return f

    arith = binop(binop(primary, {"*"}), {"+", "-"})
    shift = binop(arith, {"<<", ">>"})
    comp = binop(binop(shift, {"<", ">", "<=", ">="}), {"==", "!="})

    def andexp() -> int | None:
        v = comp()
        while cur[0] == "&&":
            take()
            w = comp()
            v = 0 if v == 0 or w == 0 else (None if v is None or w is None else 1)
        return v

    def orexp() -> int | None:
        v = andexp()
        while cur[0] == "||":
            take()
            w = andexp()
            v = 1 if (v or w) else (None if v is None or w is None else 0)
        return v

    v = orexp()
    return (None if v is None else bool(v)), unknown


@dataclass
class Undecided:
    """A line under an #if this script could not decide, kept to check it installs nothing."""
    file: str
    line: int
    macros: set[str]
    text: str


def preprocess(name: str, src: str, decisions: dict[str, bool], undecided: list[Undecided],
               governs: dict[str, list[str]] | None = None) -> str:
    """Apply #if/#ifdef/#ifndef/#elif/#else/#endif and file-local #define/#undef.

    Lines of untaken branches (and all directive lines) become blank, so line numbers hold.
    In a chain whose condition depends on an undecided macro the first branch not known to
    be false is kept (so braces stay balanced in the usual `#ifdef X ... #else ... #endif`)
    and every line of the chain is remembered in `undecided`.
    `governs` collects, per macro, the install_* lines its conditionals enclose (kept or not).
    """
    defined = dict(decisions)
    lines = strip_comments(src).split("\n")
    out: list[str] = []
    stack: list[dict] = []   # per #if chain: emit (this branch kept), done (a branch kept), undecided, macros
    i = 0
    while i < len(lines):
        line = lines[i]
        count = 1
        while line.lstrip().startswith("#") and line.rstrip().endswith("\\") and i + count < len(lines):
            line = line.rstrip()[:-1] + " " + lines[i + count]
            count += 1
        emit = all(f["emit"] for f in stack)
        m = re.match(r"\s*#\s*(\w+)\s*(.*)", line)
        if not m:
            if any(f["undecided"] for f in stack) and line.strip():
                macros = set().union(*(f["macros"] for f in stack))
                undecided.append(Undecided(name, i + 1, macros, line))
            out.append(line if emit else "")
            if governs is not None and re.search(r"\binstall_\w*keyword|\binstall_sublevel|\w_keywords\s*\(", line):
                for mac in set().union(*(f["refs"] for f in stack)) if stack else ():
                    governs.setdefault(mac, []).append(f"{name}:{i + 1} {'kept' if emit else 'dropped'}: {line.strip()}")
            i += 1
            continue
        d, rest = m.group(1), m.group(2).strip()
        if d in ("if", "ifdef", "ifndef", "elif"):
            if d == "if" or d == "elif":
                val, unk = pp_eval(rest, defined)
            else:
                mac = rest.split()[0]
                unk = set() if mac in defined else {mac}
                val = None if unk else (defined[mac] if d == "ifdef" else not defined[mac])
            if d == "elif":
                frame = stack[-1]
            else:
                frame = {"emit": False, "done": False, "undecided": False, "macros": set(), "refs": set()}
                stack.append(frame)
            frame["undecided"] |= val is None
            frame["macros"] |= unk
            frame["refs"] |= set(re.findall(r"[A-Za-z_]\w*", rest)) - {"defined"}
            frame["emit"] = not frame["done"] and val is not False
            frame["done"] |= frame["emit"]
        elif d == "else":
            frame = stack[-1]
            frame["emit"] = not frame["done"]
            frame["done"] = True
        elif d == "endif":
            stack.pop()
        elif d == "define" and emit and rest:
            defined[re.split(r"[\s(]", rest)[0]] = True
        elif d == "undef" and emit and rest:
            defined[rest.split()[0]] = False
        out.extend([""] * count)
        i += count
    if stack:
        raise GenError(f"{name}: unbalanced #if")
    return "\n".join(out)


@dataclass
class Tok:
    text: str
    line: int


_C_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|[A-Za-z_]\w*|\d[\w.]*|->|==|!=|&&|\|\||<=|>=|<<|>>|\+\+|--|\S')


def tokenize(src: str) -> list[Tok]:
    """C tokens of preprocessed text, each with its line number."""
    toks = []
    for lineno, line in enumerate(src.split("\n"), 1):
        for m in _C_TOKEN.finditer(line):
            toks.append(Tok(m.group(0), lineno))
    return toks


def matching(toks: list[Tok], i: int) -> int:
    """Index of the bracket closing the one at toks[i]."""
    pairs = {"(": ")", "{": "}", "[": "]"}
    opening, closing = toks[i].text, pairs[toks[i].text]
    depth = 0
    for j in range(i, len(toks)):
        if toks[j].text == opening:
            depth += 1
        elif toks[j].text == closing:
            depth -= 1
            if depth == 0:
                return j
    raise GenError(f"unbalanced {opening} at line {toks[i].line}")


@dataclass
class Func:
    file: str
    name: str
    params: list[str]
    body: list[Tok]      # tokens between the braces
    static: bool
    calls: set[str] = field(default_factory=set)


def param_names(toks: list[Tok]) -> list[str]:
    """Names of a definition's parameters, function-pointer parameters included."""
    names = []
    parts: list[list[str]] = [[]]
    depth = 0
    for t in toks:
        if t.text in "([":
            depth += 1
        elif t.text in ")]":
            depth -= 1
        if t.text == "," and depth == 0:
            parts.append([])
        else:
            parts[-1].append(t.text)
    for p in parts:
        p = [x for x in p if x]
        if not p or p == ["void"]:
            continue
        txt = " ".join(p)
        fp = re.search(r"\(\s*\*\s*(\w+)\s*\)", txt)
        if fp:
            names.append(fp.group(1))
            continue
        idents = [x for x in p if re.fullmatch(r"[A-Za-z_]\w*", x)]
        if "." in p:
            continue        # `...`
        names.append(idents[-1])
    return names


def functions(name: str, toks: list[Tok]) -> list[Func]:
    """Function definitions at file level: `... name ( params ) { body }`."""
    funcs = []
    i = 0
    start = 0   # first token of the current top-level declaration
    while i < len(toks):
        t = toks[i].text
        if t == ";":
            start = i + 1
        elif t == "{":
            end = matching(toks, i)
            if i > 0 and toks[i - 1].text == ")":
                # find the '(' of the parameter list
                depth = 0
                j = i - 1
                while j >= 0:
                    if toks[j].text == ")":
                        depth += 1
                    elif toks[j].text == "(":
                        depth -= 1
                        if depth == 0:
                            break
                    j -= 1
                fname = toks[j - 1].text
                if re.fullmatch(r"[A-Za-z_]\w*", fname) and "=" not in [x.text for x in toks[start:j]]:
                    static = any(x.text == "static" for x in toks[start:j])
                    f = Func(name, fname, param_names(toks[j + 1:i - 1]), toks[i + 1:end], static)
                    f.calls = {f.body[k].text for k in range(len(f.body) - 1)
                               if f.body[k + 1].text == "(" and re.fullmatch(r"[A-Za-z_]\w*", f.body[k].text)}
                    funcs.append(f)
            i = end + 1
            start = i
            continue
        i += 1
    return funcs


class Program:
    """All function definitions of the sources, with the two call-graph facts we need."""

    def __init__(self, files: dict[str, str], decisions: dict[str, bool]) -> None:
        self.undecided: list[Undecided] = []
        self.governs: dict[str, list[str]] = {}
        self.by_name: dict[str, list[Func]] = {}
        for name, src in sorted(files.items()):
            for f in functions(name, tokenize(preprocess(name, src, decisions, self.undecided, self.governs))):
                self.by_name.setdefault(f.name, []).append(f)
        self._installs: dict[tuple[str, str], bool] = {}
        self._values: dict[tuple[str, str], bool] = {}

    def resolve(self, name: str, from_file: str) -> Func | None:
        """The definition a call from `from_file` reaches: that file's own (static) one, else the global one."""
        cands = self.by_name.get(name, [])
        for f in cands:
            if f.file == from_file:
                return f
        globals_ = [f for f in cands if not f.static]
        if len(globals_) > 1:
            raise GenError(f"{name}: defined non-static in {[f.file for f in globals_]}")
        return globals_[0] if globals_ else None

    def _reaches(self, f: Func, targets: set[str], memo: dict[tuple[str, str], bool], seen: set) -> bool:
        key = (f.file, f.name)
        if key in memo:
            return memo[key]
        if key in seen:
            return False
        seen.add(key)
        result = bool(f.calls & targets)
        for c in sorted(f.calls - targets):
            g = self.resolve(c, f.file)
            if g is not None and g is not f and self._reaches(g, targets, memo, seen):
                result = True
        memo[key] = result
        return result

    def installs(self, f: Func) -> bool:
        """Whether f (or something it calls) installs keywords."""
        return self._reaches(f, PRIMITIVES, self._installs, set())

    def reads_values(self, f: Func) -> bool:
        """Whether f (or something it calls) reads a value block."""
        return self._reaches(f, VALUE_READERS, self._values, set())

    def check_undecided(self) -> None:
        """Fail if text under an undecided #if could install keywords."""
        installer_names = {n for n, fs in self.by_name.items() if any(self.installs(f) for f in fs)} | PRIMITIVES
        for d in self.undecided:
            words = set(re.findall(r"[A-Za-z_]\w*", d.text))
            if words & installer_names:
                raise GenError(f"{d.file}:{d.line}: install code under undecided macro(s) {sorted(d.macros)}: "
                               f"add them to DECISIONS\n  {d.text.strip()}")


# ---------------------------------------------------------------------------------------
# Interpreting the init functions
# ---------------------------------------------------------------------------------------

@dataclass
class Node:
    """A keyword as keepalived's keyword_t holds it (string, handler, active, sub)."""
    name: str
    handlers: set[str]
    where: str
    active: bool = True
    sub: list["Node"] | None = None


class Table:
    """One process's keyword table, built with lib/parser.c's rules."""

    def __init__(self) -> None:
        self.roots: list[Node] = []
        self.sublevel = 0

    def root(self, name: str, handlers: set[str], active: bool, where: str) -> None:
        self.roots.append(Node(name, handlers, where, active))

    def keyword(self, name: str, handlers: set[str], where: str) -> None:
        # keyword_alloc_sub(): the last root; nothing if it is inactive; then `sublevel`
        # times down the last keyword of each level; add to its sub vector.
        if not self.roots:
            raise GenError(f"{where}: install_keyword before any root")
        node = self.roots[-1]
        if not node.active:
            return
        for _ in range(self.sublevel):
            if not node.sub:
                raise GenError(f"{where}: install_keyword at sublevel {self.sublevel} below a keyword without one")
            node = node.sub[-1]
        if node.sub is None:
            node.sub = []
        node.sub.append(Node(name, handlers, where))


Env = dict[str, Value]


def truth(v: Value) -> bool | None:
    """C truthiness, None when unknown."""
    if isinstance(v, bool):
        return v
    if isinstance(v, Lit):
        return True
    if isinstance(v, Sym):
        return False if v.name == "NULL" else (True if v.name.islower() else None)
    if isinstance(v, Alt):
        vals = {truth(o) for o in v.options}
        return vals.pop() if len(vals) == 1 else None
    return None


class Expr:
    """A small C expression evaluator (?:, ||, &&, ==, !=, !, &, literals, names) over Values."""

    def __init__(self, toks: list[Tok], env: Env, program: Program) -> None:
        self.toks = [t.text for t in toks] + [""]
        self.i = 0
        self.env = env
        self.program = program

    def peek(self) -> str:
        return self.toks[self.i]

    def take(self) -> str:
        t = self.toks[self.i]
        self.i += 1
        return t

    def parse(self) -> Value:
        v = self.ternary()
        if self.peek() != "":
            return None   # something this evaluator does not model: unknown
        return v

    def ternary(self) -> Value:
        c = self.orexp()
        if self.peek() != "?":
            return c
        self.take()
        a = self.ternary()
        if self.take() != ":":
            return None
        b = self.ternary()
        t = truth(c)
        return a if t is True else b if t is False else Alt((a, b))

    def orexp(self) -> Value:
        v = self.andexp()
        while self.peek() == "||":
            self.take()
            w = self.andexp()
            a, b = truth(v), truth(w)
            v = True if (a or b) else (None if a is None or b is None else False)
        return v

    def andexp(self) -> Value:
        v = self.eq()
        while self.peek() == "&&":
            self.take()
            w = self.eq()
            a, b = truth(v), truth(w)
            v = False if (a is False or b is False) else (None if a is None or b is None else True)
        return v

    def eq(self) -> Value:
        v = self.unary()
        while self.peek() in ("==", "!="):
            op = self.take()
            w = self.unary()
            if isinstance(v, Sym) and isinstance(w, Sym) and v.name.isupper() and w.name.isupper():
                v = (v == w) if op == "==" else (v != w)
            else:
                v = None
        return v

    def unary(self) -> Value:
        t = self.peek()
        if t == "!":
            self.take()
            a = truth(self.unary())
            return None if a is None else not a
        if t == "&":
            self.take()
            return self.unary()
        return self.primary()

    def primary(self) -> Value:
        t = self.take()
        if t == "(":
            v = self.ternary()
            self.take()
            return v
        if t.startswith('"'):
            return Lit(bytes(t[1:-1], "utf-8").decode("unicode_escape"))
        if t in ("true", "false"):
            return t == "true"
        if re.fullmatch(r"[A-Za-z_]\w*", t):
            if t in self.env:
                return self.env[t]
            if t == "NULL" or t.isupper() or t in self.program.by_name:
                return Sym(t)
            return None
        return None


def split_args(toks: list[Tok]) -> list[list[Tok]]:
    """Split a call's argument tokens at top-level commas."""
    args: list[list[Tok]] = [[]]
    depth = 0
    for t in toks:
        if t.text in "([{":
            depth += 1
        elif t.text in ")]}":
            depth -= 1
        if t.text == "," and depth == 0:
            args.append([])
        else:
            args[-1].append(t)
    return [] if args == [[]] else args


def handler_names(v: Value) -> set[str]:
    """Function names a handler argument may be."""
    if isinstance(v, Sym) and v.name != "NULL":
        return {v.name}
    if isinstance(v, Alt):
        return set().union(*(handler_names(o) for o in v.options))
    return set()


class _Return(Exception):
    """A `return` statement reached in a function being interpreted."""


class Interpreter:
    """Runs an init function's statements far enough to replay its install_* calls."""

    def __init__(self, program: Program, table: Table, log: list[str]) -> None:
        self.program = program
        self.table = table
        self.log = log
        self.depth = 0
        self.guessing = 0     # > 0 inside the branches of an undecided if

    def call(self, f: Func, args: list[Value], globals_: Env) -> None:
        if len(args) != len(f.params):
            raise GenError(f"{f.name}: called with {len(args)} arguments, takes {len(f.params)}")
        env: Env = dict(globals_)
        env.update(zip(f.params, args))
        self.depth += 1
        if self.depth > 20:
            raise GenError(f"{f.name}: recursion")
        try:
            self.block(f, f.body, 0, len(f.body), env)
        except _Return:
            pass
        self.depth -= 1

    def block(self, f: Func, toks: list[Tok], i: int, end: int, env: Env) -> None:
        while i < end:
            i = self.statement(f, toks, i, env)

    def statement(self, f: Func, toks: list[Tok], i: int, env: Env) -> int:
        t = toks[i].text
        if t == "{":
            j = matching(toks, i)
            self.block(f, toks, i + 1, j, env)
            return j + 1
        if t == ";":
            return i + 1
        if t == "if":
            j = matching(toks, i + 1)
            cond = truth(Expr(toks[i + 2:j], env, self.program).parse())
            then_start = j + 1
            then_end = self.skip(toks, then_start)
            else_start = else_end = then_end
            if then_end < len(toks) and toks[then_end].text == "else":
                else_start = then_end + 1
                else_end = self.skip(toks, else_start)
            if cond is None:
                self.log.append(f"{f.file}:{toks[i].line} {f.name}: `if ({' '.join(x.text for x in toks[i + 2:j])})` "
                                "undecided here: both branches taken")
                env_a, env_b = dict(env), dict(env)
                self.guessing += 1
                self.block(f, toks, then_start, then_end, env_a)
                self.block(f, toks, else_start, else_end, env_b)
                self.guessing -= 1
                for k in set(env_a) | set(env_b):
                    env[k] = env_a.get(k) if env_a.get(k) == env_b.get(k) else None
            elif cond:
                self.block(f, toks, then_start, then_end, env)
            else:
                self.block(f, toks, else_start, else_end, env)
            return else_end
        end = self.skip(toks, i)
        text = [x.text for x in toks[i:end]]
        if t in ("for", "while", "do", "switch", "goto", "return"):
            # Not followed: fine as long as nothing in them installs keywords. (A `return`
            # would end an installer early; none of the installers has one.)
            self.no_install(f, toks[i:end])
            if t == "return":
                if self.guessing:
                    raise GenError(f"{f.file}:{toks[i].line} {f.name}: return under an undecided if: model it")
                raise _Return()
            return end
        # `[type] name = expr ;` : bind local variables (e.g. bfd_handlers)
        if "=" in text and text.index("=") >= 1 and toks[i + text.index("=") - 1].text.isidentifier():
            k = text.index("=")
            self.no_install(f, toks[i + k + 1:end - 1])
            env[toks[i + k - 1].text] = Expr(toks[i + k + 1:end - 1], env, self.program).parse()
            return end
        # `name ( args ) ;`
        if len(text) >= 4 and text[1] == "(" and matching(toks, i + 1) == end - 2:
            args = split_args(toks[i + 2:end - 2])
            self.invoke(f, t, args, env, toks[i].line)
            return end
        self.no_install(f, toks[i:end])
        return end

    def skip(self, toks: list[Tok], i: int) -> int:
        """Index just past the statement starting at i."""
        t = toks[i].text
        if t == "{":
            return matching(toks, i) + 1
        if t in ("if", "for", "while", "switch"):
            j = self.skip(toks, matching(toks, i + 1) + 1)
            if t == "if" and j < len(toks) and toks[j].text == "else":
                j = self.skip(toks, j + 1)
            return j
        if t == "do":
            j = self.skip(toks, i + 1)          # body, then `while (...) ;`
            return matching(toks, j + 1) + 2
        depth = 0
        while i < len(toks):
            x = toks[i].text
            if x in "([{":
                depth += 1
            elif x in ")]}":
                depth -= 1
            elif x == ";" and depth == 0:
                return i + 1
            i += 1
        raise GenError("statement without ';'")

    def no_install(self, f: Func, toks: list[Tok]) -> None:
        """Fail if tokens this interpreter does not execute call something that installs keywords."""
        for k in range(len(toks) - 1):
            if toks[k + 1].text == "(":
                name = toks[k].text
                g = self.program.resolve(name, f.file)
                if name in PRIMITIVES or (g is not None and self.program.installs(g)):
                    raise GenError(f"{f.file}:{toks[k].line} {f.name}: install call in a construct not followed")

    def invoke(self, f: Func, name: str, arg_toks: list[list[Tok]], env: Env, line: int) -> None:
        where = f"{f.file}:{line}"
        args = [Expr(a, env, self.program).parse() for a in arg_toks]
        if name in PRIMITIVES:
            if name == "install_keyword_root":
                kw, handler, act = args
                if not isinstance(kw, Lit):
                    raise GenError(f"{where}: keyword name not known")
                self.table.root(kw.text, handler_names(handler), truth(act) is not False, where)
            elif name == "install_keyword":
                kw, handler = args
                if not isinstance(kw, Lit):
                    raise GenError(f"{where}: keyword name not known")
                self.table.keyword(kw.text, handler_names(handler), where)
            elif name == "install_sublevel":
                self.table.sublevel += 1
            elif name == "install_sublevel_end":
                self.table.sublevel -= 1
            return
        g = self.program.resolve(name, f.file)
        if g is not None and self.program.installs(g):
            self.call(g, args, {k: v for k, v in env.items() if k in ("prog_type", "reload")})


def run_process(program: Program, proc: str, file: str, func: str, log: list[str]) -> Table:
    """The keyword table one keepalived process builds."""
    table = Table()
    f = program.resolve(func, file)
    if f is None or f.file != file:
        raise GenError(f"{file}: {func} not found")
    Interpreter(program, table, log).call(f, [], {"prog_type": Sym(PROG_TYPES[proc]), "reload": False})
    if table.sublevel:
        raise GenError(f"{proc}: install_sublevel() without install_sublevel_end()")
    return table


# ---------------------------------------------------------------------------------------
# From tables to JSON
# ---------------------------------------------------------------------------------------

def entry(program: Program, node: Node, path: tuple[str, ...], notes: list[str]) -> dict:
    """The JSON entry of one keyword (first of its name at its level: keepalived's lookup stops there)."""
    reads = set()
    for h in sorted(node.handlers):
        g = program.resolve(h, node.where.split(":")[0])
        if g is None:
            raise GenError(f"{node.where}: handler {h} not found")
        if program.reads_values(g):
            reads.add(h)
    if reads and reads != node.handlers:
        notes.append(f"{'/'.join(path)}: handlers disagree on reading a value block: {sorted(node.handlers)}")
    out: dict = {}
    if node.sub:
        children: dict[str, dict] = {}
        for child in node.sub:
            if child.name in children:
                notes.append(f"{'/'.join(path + (child.name,))}: installed twice at one level ({child.where}); "
                             "keepalived only ever finds the first")
                continue
            children[child.name] = entry(program, child, path + (child.name,), notes)
        out = {"kind": "block", "children": children}
        if reads:
            out["handler_reads_values"] = True
            notes.append(f"{'/'.join(path)}: has a sublevel and its handler also reads a value block")
    else:
        out = {"kind": "values" if reads else "line"}
    out.update(OVERRIDES.get(path, {}))
    return out


def merge(a: dict, b: dict, path: str, notes: list[str]) -> dict:
    """Union of one keyword's entries from two processes."""
    if a["kind"] != b["kind"]:
        notes.append(f"{path}: kind {a['kind']} in one process, {b['kind']} in another; table says block")
        block = a if a["kind"] == "block" else b
        return block
    out = dict(a)
    if a["kind"] == "block":
        children = dict(a["children"])
        for k, v in b["children"].items():
            children[k] = merge(children[k], v, f"{path}/{k}", notes) if k in children else v
        out["children"] = children
    return out


def build(git_dir: str, tag: str) -> tuple[dict, list[str], list[str], dict[str, list[str]]]:
    """The table as JSON data, plus the notes (odd cases), the interpreter's log and the
    install lines each macro decided."""
    files = git_files(git_dir, tag)
    program = Program(files, DECISIONS)
    program.check_undecided()
    notes: list[str] = []
    log: list[str] = []
    root: dict[str, dict] = {}
    used_files: set[str] = {"lib/parser.c"} | {file for _, file, _ in PROCESSES}
    for proc, file, func in PROCESSES:
        table = run_process(program, proc, file, func, log)
        seen: set[str] = set()
        for node in table.roots:
            used_files.add(node.where.split(":")[0])
            if node.name in seen:
                notes.append(f"{proc}: root {node.name} installed twice ({node.where}); the first is found")
                continue
            seen.add(node.name)
            if not node.active:
                continue   # keepalived skips the block unread in this process
            for n in walk(node):
                used_files.add(n.where.split(":")[0])
            e = entry(program, node, (node.name,), notes)
            root[node.name] = merge(root[node.name], e, node.name, notes) if node.name in root else e
    missing = [p for p in OVERRIDES if not lookup(root, p)]
    if missing:
        raise GenError(f"OVERRIDES for keywords not in the table: {missing}")
    data = {"source": f"keepalived {tag} (files {', '.join(sorted(used_files))}; "
                      f"generated by tools/keepalived_keywords.py)", "root": root}
    return data, sorted(set(notes)), log, program.governs


def walk(node: Node) -> Iterator[Node]:
    yield node
    for c in node.sub or []:
        yield from walk(c)


def lookup(root: dict, path: tuple[str, ...]) -> dict | None:
    cur: dict | None = {"children": root}
    for p in path:
        cur = (cur or {}).get("children", {}).get(p)
    return cur


def main(argv: list[str] | None = None) -> int:
    here = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("git_dir", help="keepalived git directory (bare is fine)")
    ap.add_argument("--tag", default="v2.2.7")
    ap.add_argument("--out", default=str(here / "labs" / "kaconfig" / "keywords.json"))
    ap.add_argument("-v", "--verbose", action="store_true", help="print the interpreter's undecided ifs")
    ap.add_argument("--decisions", action="store_true", help="print which install lines each #if macro decided")
    a = ap.parse_args(argv)
    try:
        data, notes, log, governs = build(a.git_dir, a.tag)
    except GenError as e:
        print(f"keepalived_keywords: {e}", file=sys.stderr)
        return 1
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=1) + "\n")
    for n in notes:
        print(f"note: {n}")
    for line in log if a.verbose else []:
        print(f"log: {line}")
    for mac in sorted(governs) if a.decisions else []:
        print(f"{mac} = {DECISIONS.get(mac, 'not in DECISIONS (#define in the source file)')}")
        for line in governs[mac]:
            print(f"    {line}")
    print(f"wrote {out}: {len(data['root'])} root keywords")
    return 0


if __name__ == "__main__":
    sys.exit(main())
