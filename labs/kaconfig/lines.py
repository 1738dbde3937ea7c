"""keepalived's preprocessor: files to the logical lines its keyword parser sees.

A transcription of `read_line` and its helpers in keepalived 2.2.7's lib/parser.c, so that
a config reads here as keepalived reads it:
- each physical line is cut into pieces of MAXBUF-1 bytes (keepalived reads with
  `fgets(buf, 1024)`), ends in CR/LF stripped, and stops at a NUL byte (a C string);
- `decomment`: leading blanks, comments from `!` or `#` outside double quotes (`\\#` and
  `\\!` escape them), trailing blanks; a line ending in `\\` continues a definition;
- `@ID line` is kept (without `@ID`) only when keepalived runs with `-i ID`, `@^ID line`
  only when it does not; `@ID` with nothing after it drops the line;
- `$NAME=value` defines (a value ending in `\\` continues on the next lines),
  `$NAME`/`${NAME}` substitute (a multi-line value only where it ends the line), with
  keepalived's own `$_PWD`, `$_INSTANCE`, `$_RANDOM`, `$_HASH` and `$_BANG`;
- `include PATTERN` (and `includer`/`includem`/`includew`/`includeb`/`includea`) reads the
  files the glob matches, braces expanded as GLOB_BRACE does, each alternative's matches
  sorted, folders and executable files skipped, relative to the including file's folder;
- every line is cut before a `{` or `}` outside quotes, and a brace is a line of its own:
  `a { b c }` is the three lines `a`, `{`, `b c` and `}`. So several keywords on one line
  are one keyword with the others as its arguments, as keepalived reads them.

- `~SEQ(var, start, step, end) line` and `~LST(var, v1, v2) line` / `~LST({a, b}, {1, 2},
  {3, 4}) line` repeat the line once per value, each time with `$var` defined to it.

A file that includes itself is reported once and not read again (keepalived would read it
until it runs out of file descriptors).
"""
from __future__ import annotations

import glob as globmod
import os
import random
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

MAXBUF = 1024  # lib/parser.h: the line buffer; fgets keeps one byte for the NUL
WHITE_SPACE = " \t\f\n\r\v"  # lib/parser.c WHITE_SPACE_STR
INCLUDE_TYPES = "rmwba"  # include[rmwba]: which include errors keepalived counts (is_include)
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Where:
    """A file and a line in it (1-based), as messages name them."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Diagnostic:
    """What keepalived would report about the config, at one of three levels: "warning"
    (logged, run past), "error" (keepalived -t fails; keepalived runs what it could read)
    or "fatal" (keepalived stops, or runs something else than its author wrote)."""

    where: Where | None
    message: str
    level: str = "error"

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


@dataclass(frozen=True)
class Line:
    text: str
    where: Where


@dataclass
class _Definition:
    value: str = ""
    multiline: bool = False
    max_params: int = 0  # only keepalived's $_RANDOM takes parameters
    dynamic: str = ""  # keepalived's own: computed at each use ($_PWD, $_INSTANCE, $_RANDOM)


@dataclass
class _Loop:
    """A ~SEQ or ~LST still producing its line: the names it defines and the values left."""

    names: list[str]
    values: list[list[str]]
    text: str


@dataclass
class _File:
    path: Path
    shown: str
    lines: list[str]
    index: int = 0  # next physical line
    pieces: list[str] = field(default_factory=list)  # MAXBUF pieces of the current line still to read
    line_no: int = 0


@dataclass
class _Glob:
    pattern: str
    kind: str  # "" for include, else the letter of include[rmwba]
    files: list[Path]
    current: _File | None = None


class Diagnostics:
    """The messages of one reading; a message repeated many times (a file of braces) is
    kept a few times and counted, so that reading stays linear in memory."""

    KEEP = 20

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []
        self.counts: dict[str, int] = {}

    def add(self, where: Where | None, message: str, level: str = "error") -> None:
        key = re.sub(r"'[^']*'", "''", message)
        n = self.counts.get(key, 0) + 1
        self.counts[key] = n
        if n <= self.KEEP:
            self.items.append(Diagnostic(where, message, level))
        elif n == self.KEEP + 1:
            self.items.append(Diagnostic(where, f"(more like: {message})", level))

    @property
    def errors(self) -> list[Diagnostic]:
        """What keepalived -t fails on (errors and fatal ones)."""
        return [d for d in self.items if d.level != "warning"]

    @property
    def fatal(self) -> list[Diagnostic]:
        return [d for d in self.items if d.level == "fatal"]


def decomment(text: str) -> tuple[str, bool]:
    """keepalived's decomment(): the line without its comment and the blanks around it,
    `\\#`/`\\!` unescaped outside quotes; and whether a quote was left open."""
    s = text.lstrip(" \t")
    out: list[str] = []
    quote = skipping = cont = False
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if skipping:
            if c == '"':
                pass
            elif c == "\\":
                if i + 1 >= n:
                    cont = True
                    break
                i += 2
                continue
            i += 1
            continue
        if c == '"':
            quote = not quote
        elif c == "\\":
            if i + 1 >= n:
                cont = True
                break
            if not quote and s[i + 1] in "#!":
                out.append(s[i + 1])
            else:
                out.append(s[i:i + 2])
            i += 2
            continue
        elif not quote and c in "!#":
            skipping = True
            i += 1
            continue
        out.append(c)
        i += 1
    result = "".join(out).rstrip(" \t")
    return (result + "\\" if cont else result), quote


def words(text: str) -> list[str]:
    """keepalived's alloc_strvec_r(): words split at white space; a double-quoted string is
    one word without its quotes (a word also ends where a quote starts)."""
    out: list[str] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in WHITE_SPACE:
            i += 1
        if i >= n:
            return out
        if text[i] == '"':
            end = text.find('"', i + 1)
            if end < 0:  # keepalived reports "Unmatched quote" and drops the rest
                return out
            out.append(text[i + 1:end])
            i = end + 1
        else:
            j = i
            while j < n and text[j] not in WHITE_SPACE and text[j] != '"':
                j += 1
            out.append(text[i:j])
            i = j


ESCAPES = {"a": "\a", "b": "\b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def quoted_words(text: str) -> list[str] | None:
    """keepalived's alloc_strvec_quoted_escaped(), how script keywords (script, notify,
    misc_path, ...) split their line: single or double quotes, backslash escapes (\\xNN,
    \\cX, octal, \\n ...); None where keepalived gives up (a quote left open, a
    backslash at the end)."""
    out: list[str] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in WHITE_SPACE:
            i += 1
        if i >= n:
            return out
        word: list[str] = []
        quote = ""
        while i < n:
            c = text[i]
            if c == "\\":
                i += 1
                if i >= n:
                    return None
                c = text[i]
                if c == "x" and i + 1 < n and text[i + 1] in "0123456789abcdefABCDEF":
                    j = i + 1
                    while j < n and text[j] in "0123456789abcdefABCDEF":
                        j += 1
                    word.append(chr(int(text[i + 1:j], 16) & 0xFF))
                    i = j
                elif c == "c" and i + 1 < n:
                    word.append(chr(ord(text[i + 1]) & 0x1F))
                    i += 2
                elif c in "01234567":
                    j = i
                    while j < n and j < i + 3 and text[j] in "01234567":
                        j += 1
                    word.append(chr(int(text[i:j], 8) & 0xFF))
                    i = j
                else:
                    word.append(ESCAPES.get(c, c))
                    i += 1
            elif quote:
                if c == quote:
                    quote = ""
                else:
                    word.append(c)
                i += 1
            elif c in "\"'":
                quote = c
                i += 1
            elif c in WHITE_SPACE:
                break
            else:
                word.append(c)
                i += 1
        if quote:
            return None
        out.append("".join(word))


def expand_braces(pattern: str) -> list[str]:
    """GLOB_BRACE's expansion of `{a,b}` (nested too; `\\{` is no brace), in order."""
    depth, start = 0, -1
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            if depth == 0:
                start = i
            depth += 1
        elif c == "}" and depth:
            depth -= 1
            if depth == 0:
                inner, parts, level, begin = pattern[start + 1:i], [], 0, 0
                for j, ch in enumerate(inner):
                    if ch == "{":
                        level += 1
                    elif ch == "}":
                        level -= 1
                    elif ch == "," and level == 0:
                        parts.append(inner[begin:j])
                        begin = j + 1
                parts.append(inner[begin:])
                head, tail = pattern[:start], pattern[i + 1:]
                return [x for p in parts for x in expand_braces(head + p + tail)]
        i += 1
    return [pattern]


def _glob(pattern: str) -> tuple[list[str], bool]:
    """Matches of one include pattern, as glob(GLOB_MARK | GLOB_BRACE) gives them (each
    brace alternative's matches sorted); and whether a named file or folder was missing."""
    out: list[str] = []
    missing = False
    for alternative in expand_braces(pattern):
        found = sorted(globmod.glob(alternative))
        if not found and not globmod.has_magic(alternative):
            missing = True
        out += [f + "/" if os.path.isdir(f) and not f.endswith("/") else f for f in found]
    return out, missing


class Reader:
    """The logical lines of a config, read as keepalived's read_line() gives them."""

    def __init__(self, path: Path, config_id: str | None = None, text: str | None = None) -> None:
        self.config_id = config_id
        self.diagnostics = Diagnostics()
        self.files: list[Path] = []  # every file read, in order
        # each include statement (its file and line) -> its pattern and the files it read
        self.includes: dict[tuple[str, int], tuple[str, list[Path]]] = {}
        self._stack: list[_Glob] = []
        self._defs: dict[str, _Definition] = {  # set_std_definitions(); a config may redefine them
            "_PWD": _Definition(dynamic="_PWD"), "_INSTANCE": _Definition(dynamic="_INSTANCE"),
            "_RANDOM": _Definition(max_params=2, dynamic="_RANDOM"), "_HASH": _Definition("#"), "_BANG": _Definition("!")}
        self._residue: str | None = None
        self._expansion: list[str] = []  # the rest of a multi-line definition being expanded
        self._expansion_stack: list[tuple[list[str], int]] = []  # expansions it interrupted, and their loop depth
        self._loop_depth = 0  # loops started before the expansion wait for it to end (multiline_seq_depth)
        self._defining: _Definition | None = None  # a multi-line definition still being read
        self._loops: list[_Loop] = []  # ~SEQ / ~LST, the innermost last
        self._physical_text = ""  # the current physical line, decommented (what keepalived's config copy keeps)
        self._where = Where(str(path), 0)
        self.depth = 0  # braces open (read_line's block_depth)
        if text is not None:
            self._push_file(_Glob(str(path), "r", []), path, text)
        else:
            self._open(str(path), "a", None)

    # -- files -------------------------------------------------------------------------
    def _open(self, pattern: str, kind: str, where: Where | None, twice: bool = False) -> None:
        """An include (or the config itself): the glob's files are read in turn."""
        base = self._stack[-1].current.path.parent if self._stack and self._stack[-1].current else Path.cwd()
        full = pattern if os.path.isabs(pattern) else str(base / pattern)
        matches, missing = _glob(full)
        # include[rmwba] make keepalived -t count what plain `include` only logs (include_t)
        counted = "error" if kind or not self._stack else "warning"
        if not self._stack and not matches:
            self.diagnostics.add(where, f"no config file {pattern}", "fatal")
            return
        if not matches:
            strict = kind and (missing or kind in "wa")
            self.diagnostics.add(where, f"include {pattern}: no file matches it (keepalived goes on without it)",
                                 "error" if strict else "warning")
            return
        files = []
        for m in matches:
            if m.endswith("/"):
                self.diagnostics.add(where, f"include {pattern}: {m.rstrip('/')} is a folder; keepalived skips it",
                                     counted)
                continue
            p = Path(m)
            try:
                st = p.stat()
            except OSError as e:
                self.diagnostics.add(where, f"include {pattern}: {m}: {e.strerror}", counted)
                continue
            if not stat.S_ISREG(st.st_mode) or st.st_mode & 0o111:
                self.diagnostics.add(where, f"include {pattern}: {m} is not a regular non-executable file; "
                                     "keepalived skips it", counted)
                continue
            files.append(p)
        files = files * 2 if twice else files
        if where is not None:
            self.includes[(where.file, where.line)] = (pattern, [f for f in files if f not in self._ancestors()])
        if files:
            self._stack.append(_Glob(pattern, kind, files))
            self._next_file()

    def _ancestors(self) -> list[Path]:
        return [g.current.path for g in self._stack if g.current is not None]

    def _next_file(self) -> bool:
        """Open the current glob's next file; False when it has none left."""
        g = self._stack[-1]
        while g.files:
            path = g.files.pop(0)
            real = path.resolve()
            if any(x is not g and x.current is not None and x.current.path.resolve() == real for x in self._stack):
                chain = " -> ".join(x.current.shown for x in self._stack if x.current) + f" -> {path}"
                self.diagnostics.add(self._where, f"include loop: {chain}; keepalived would read {path.name} again "
                                     "until it runs out of open files: remove the include", "fatal")
                continue
            try:
                data = path.read_bytes()
            except OSError as e:
                self.diagnostics.add(self._where, f"cannot read {path}: {e.strerror}", "fatal")
                continue
            self._push_file(g, path, data.decode("utf-8", errors="replace"))
            return True
        g.current = None
        return False

    def _push_file(self, g: _Glob, path: Path, text: str) -> None:
        if g not in self._stack:
            self._stack.append(g)
        self.files.append(path)
        g.current = _File(path, str(path), text.split("\n"))
        if g.current.lines and g.current.lines[-1] == "":
            g.current.lines.pop()

    def _physical(self) -> str | None:
        """The next piece of a physical line (CR/LF and what follows a NUL removed), or
        None at the end of the last file."""
        while self._stack:
            g = self._stack[-1]
            f = g.current
            if f is None:
                self._stack.pop()
                continue
            if f.pieces:
                piece = f.pieces.pop(0)
            elif f.index < len(f.lines):
                raw = f.lines[f.index]
                f.index += 1
                f.line_no += 1
                if len(raw) >= MAXBUF - 1:  # fgets returns MAXBUF-1 bytes at a time
                    f.pieces = [raw[i:i + MAXBUF - 1] for i in range(0, len(raw), MAXBUF - 1)]
                    piece = f.pieces.pop(0)
                else:
                    piece = raw
            else:
                if not self._next_file():
                    self._stack.pop()
                continue
            self._where = Where(f.shown, f.line_no)
            nul = piece.find("\0")
            if nul >= 0:
                if nul == 0 or not piece[:nul].strip():
                    self.diagnostics.add(self._where, "NUL byte: keepalived reads a line only up to it", "warning")
                piece = piece[:nul]
            return piece.rstrip("\r\n")
        return None

    # -- definitions ---------------------------------------------------------------------
    def _define(self, text: str) -> bool:
        """`$NAME=value` (check_definition): record it; True if the line was one."""
        m = re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)=", text)  # no blank before "="
        if not m:
            return False
        value = text[m.end():].lstrip(" \t")
        d = _Definition(value)
        if value.endswith("\\"):  # continues on the next lines, each ending in a backslash but the last
            first = value[:-1].rstrip(" \t")
            d.value, d.multiline = (first + "\n" if first else ""), True
            self._defining = d
        self._defs[m.group(1)] = d
        return True

    def _find(self, text: str, at: int) -> tuple[_Definition, int, str] | None:
        """The definition named at `text[at]` (just after a `$`): it, the end of the
        reference, and the parameters given in `${NAME p q}`."""
        braces = text.startswith("{", at)
        m = NAME_RE.match(text, at + 1 if braces else at)
        if not m:
            return None
        end, params = m.end(), ""
        if braces:
            p = re.compile(r"[ 0-9]*").match(text, end)
            params = p.group(0) if p else ""
            if params.strip() and params.rstrip(" ") != params:
                return None
            end += len(params)
            if not text.startswith("}", end):
                return None
            end += 1
        elif end < len(text) and text[end] not in " \t,)":
            return None
        d = self._defs.get(m.group(0))
        if d is None or (d.multiline and end != len(text)):
            return None
        if params.strip() and not d.max_params:
            return None
        return d, end, params.strip()

    def _value(self, d: _Definition, params: str) -> str:
        if d.dynamic == "_PWD":  # keepalived works in the folder of the file being read
            f = self._stack[-1].current if self._stack else None
            return str(f.path.parent if f else Path.cwd())
        if d.dynamic == "_INSTANCE":
            return self.config_id or ""
        if d.dynamic == "_RANDOM":
            nums = [int(x) for x in params.split()] + [0, 32767][len(params.split()):]
            return str(random.randint(nums[0], nums[1]) if nums[1] >= nums[0] else nums[0])
        return d.value

    def _substitute(self, text: str) -> str | None:
        """replace_param(): every `$NAME`/`${NAME}` defined, scanned from where the last
        value was put (so a value's own references are replaced too); None if nothing was
        replaced. A multi-line value gives its first line here, the rest after it."""
        found = False
        i = 0
        for _ in range(MAXBUF):
            i = text.find("$", i)
            if i < 0 or i + 1 >= len(text):
                return text if found else None
            hit = self._find(text, i + 1)
            if hit is None:
                i += 1
                continue
            d, end, params = hit
            found = True
            value = self._value(d, params)
            if (params and end < len(text)) or (value.startswith("@") and len(value) > end - i):
                # replace_param moves the rest of the line by the wrong length in these two cases
                self.diagnostics.add(self._where, "keepalived 2.2.7 garbles this line (a ${_RANDOM MIN MAX} with "
                                     "text after it, or a definition starting with '@' longer than its reference): "
                                     "rewrite it without the definition", "fatal")
            if d.multiline:
                first, *rest = value.split("\n")
                if self._expansion:
                    self._expansion_stack.append((self._expansion, self._loop_depth))
                if rest:
                    self._expansion, self._loop_depth = rest, len(self._loops)
                value = first
            new = text[:i] + value + text[end:]
            if len(new) >= MAXBUF:
                self.diagnostics.add(self._where, "a definition's substitution would exceed keepalived's line length "
                                     f"({MAXBUF - 1}); keepalived keeps the line as written")
                return None
            text = new
            if value.lstrip(" \t").startswith("~"):
                return text
        self.diagnostics.add(self._where, "a definition refers to itself: keepalived would substitute it for ever; "
                             "break the cycle", "fatal")
        return None

    # -- lines -------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Line]:
        while True:
            line = self.next_line()
            if line is None:
                return
            yield line

    def next_line(self) -> Line | None:
        """read_line(): the next logical line, or None at the end."""
        while True:
            if self._residue is not None:
                text, self._residue = self._residue, None
            elif len(self._loops) > self._loop_depth:
                loop = self._loops[-1]
                for name, value in zip(loop.names, loop.values.pop(0)):
                    self._defs[name] = _Definition(value)
                text = loop.text
                if not loop.values:
                    self._loops.pop()
            elif self._expansion:
                text = self._expansion.pop(0)
                if not self._expansion:
                    self._expansion, self._loop_depth = self._expansion_stack.pop() if self._expansion_stack else ([], 0)
            else:
                raw = self._physical()
                if raw is None:
                    return None
                if not raw:
                    if self._defining is not None:  # a blank line ends a multi-line definition
                        self._defining.multiline, self._defining = bool(self._defining.value), None
                    continue
                text, open_quote = decomment(raw)
                if open_quote:
                    self.diagnostics.add(self._where, "unterminated quote: keepalived reads the line to its end")
                if not text:
                    # keepalived's VRRP and checker processes read a copy without comments, where this
                    # line is blank: it ends a multi-line definition there as a blank line does
                    if self._defining is not None:
                        self._defining.multiline, self._defining = bool(self._defining.value), None
                    continue
                if text[0] in "#!" and raw.lstrip(" \t").startswith("\\"):
                    self.diagnostics.add(self._where, f"a line starting with an escaped '{text[0]}': keepalived's "
                                         "config copy takes it for a file marker (and '\\!' crashes keepalived 2.2.7); "
                                         "quote the word instead", "fatal")
                    continue
                self._physical_text = text
            if self._defining is not None:
                self._continue_definition(text)
                continue
            text = self._conditional_and_defs(text)
            if not text:
                continue
            if self._include(text):
                continue
            return self._split_braces(text)

    def _continue_definition(self, text: str) -> None:
        """One more line of a multi-line definition (blank-ish continuation lines dropped)."""
        d = self._defining
        assert d is not None
        more = text.endswith("\\")
        if more:
            text = text[:-1].rstrip(" \t") + "\n"
        if len(text) >= 2 or (text and not more):
            d.value += text
        if not more:
            self._defining = None
            d.multiline = bool(d.value)

    def _conditional_and_defs(self, text: str) -> str:
        """`@ID`/`@^ID`, definitions, `~SEQ`/`~LST` and substitution: the inner loop of
        read_line, run again while a substitution brings a new `@` or `$`."""
        for _ in range(MAXBUF):
            if text.startswith("@"):
                negate = text.startswith("@^")
                rest = text[2:] if negate else text[1:]
                cut = min((i for i in (rest.find(" "), rest.find("\t")) if i >= 0), default=-1)
                if cut < 0:
                    return ""
                if (self.config_id is not None and rest[:cut] == self.config_id) == negate:
                    return ""
                text = rest[cut:].lstrip(" \t")
            if text.startswith("$") and self._define(text):
                return ""
            if text.startswith(("~SEQ", "~LST")):
                loop = self._seq(text) if text.startswith("~SEQ") else _lst(text)
                if loop is None:
                    self.diagnostics.add(self._where, f"invalid {text[:4]} specification '{text}': keepalived skips it")
                else:
                    self._loops.append(loop)
                return ""
            if text.startswith("~") or "$" not in text:
                return text
            replaced = self._substitute(text)
            if replaced is None:
                return text
            text, _ = decomment(replaced)
            if not (text.startswith("@") or "$" in text):
                return text
        self.diagnostics.add(self._where, "definitions expand to more definitions without end; break the cycle", "fatal")
        return ""

    def _seq(self, text: str) -> _Loop | None:
        """add_seq(): `~SEQ[x](var, end)`, `(var, start, end)` or `(var, start, step, end)`,
        the numbers after definitions are substituted, C's strtol (base 0); x: hexadecimal."""
        m = re.match(r"~SEQ(x?)[ \t]*\([ \t]*([^ \t,)]+)[ \t]*,[ \t]*([^)]*)\)[ \t]*(.*)$", text)
        if not m:
            return None
        numbers = self._substitute(m.group(3)) or m.group(3)
        try:
            parts = [int(x.strip(), 0) for x in numbers.split(",")]
        except ValueError:
            return None
        if len(parts) == 1:
            end = parts[0]
            start, step = (-1 if end < 0 else 1), (-1 if end < 1 else 1)
        elif len(parts) == 2:
            (start, end), step = parts, (1 if parts[0] <= parts[1] else -1)
        elif len(parts) == 3:
            start, step, end = parts
            if not step or (start < end and step < 0) or (start > end and step > 0):
                return None
        else:
            return None
        if m.group(1) and (start < 0 or end < 0):
            return None
        values = list(range(start, end + (1 if step > 0 else -1), step))
        if not values:
            return None
        return _Loop([m.group(2)], [[format(v, "x") if m.group(1) else str(v)] for v in values], m.group(4))

    def _include(self, text: str) -> bool:
        """check_include(): `include PATTERN` opens the files; the pattern is the rest of
        the line as written (quotes included)."""
        if not text.startswith("include") or len(text) < 8:
            return False
        if text[7] in " \t\f\n\r\v":
            kind, pattern = "", text[8:]
        elif len(text) > 8 and text[7] in INCLUDE_TYPES and text[8] in " \t\f\n\r\v":
            kind, pattern = text[7], text[9:]
        else:
            return False
        # keepalived's parent writes the config copy its VRRP and checker processes read: a plain
        # include line is left out of it and the files written in its place, but a line that only
        # becomes an include (after `@ID`, a substitution, a brace) is copied too, so those
        # processes read the files twice: the include again, then the parent's copy of them
        copied = not re.match(r"include[rmwba]?[ \t\f\v]", self._physical_text)
        if copied:
            self.diagnostics.add(self._where, "this include is not alone on its line: keepalived 2.2.7 reads the "
                                 "files it names twice (its config copy keeps the line and the files); write "
                                 "`include FILE` alone on a line", "warning")
        self._open(pattern.lstrip(" \t"), kind, self._where, twice=copied)
        return True

    def _split_braces(self, text: str) -> Line:
        """A brace outside quotes ends the line before it; a line starting with one is
        that brace alone, the rest read next."""
        where = self._where
        if text[0] in "{}":
            rest = text[1:].lstrip(" \t")
            if rest:
                self._residue = rest.rstrip(" \t")
            text = text[0]
        else:
            i, n = 0, len(text)
            while i < n:
                c = text[i]
                if c == '"':
                    j = text.find('"', i + 1)
                    if j < 0:
                        break
                    i = j + 1
                    continue
                if c in "{}":
                    self._residue = text[i:].rstrip(" \t")
                    text = text[:i]
                    break
                i += 1
            text = text.rstrip(" \t")
        if text == "{":
            self.depth += 1
        elif text == "}":
            if self.depth < 1:
                self.diagnostics.add(where, "extra '}' (no block is open)", "fatal")
                self.depth = 0
            else:
                self.depth -= 1
        return Line(text, where)


def _lst(text: str) -> _Loop | None:
    """add_lst(): `~LST(var, v1, v2, ...) line` or `~LST({a, b}, {1, 2}, {3, 4}) line`;
    missing values of a set are empty."""
    m = re.match(r"~LST[ \t]*\((.*)$", text)
    if not m:
        return None
    rest = m.group(1).lstrip(" \t")

    def group(s: str) -> tuple[list[str], str] | None:
        """One name or value, or a {..} list of them; the text after it."""
        if s.startswith("{"):
            end = s.find("}")
            if end < 0:
                return None
            return [x.strip() for x in s[1:end].split(",")], s[end + 1:].lstrip(" \t")
        cut = min((i for i in (s.find(","), s.find(")")) if i >= 0), default=-1)
        if cut < 0:
            return None
        return [s[:cut].strip()], s[cut:]

    first = group(rest)
    if first is None or not first[1].startswith(","):
        return None
    names, rest = first[0], first[1][1:].lstrip(" \t")
    values: list[list[str]] = []
    while True:
        got = group(rest)
        if got is None or len(got[0]) > len(names):
            return None
        values.append(got[0] + [""] * (len(names) - len(got[0])))
        rest = got[1]
        if rest.startswith(")"):
            break
        if not rest.startswith(","):
            return None
        rest = rest[1:].lstrip(" \t")
    if not names or not values:
        return None
    return _Loop(names, values, rest[1:].lstrip(" \t"))


def flatten(path: Path, config_id: str | None = None) -> tuple[str, list[str]]:
    """The config as one file: each include statement commented out and followed by the
    files it reads (as this reader reads them, with the same config id), so that the
    one file reads as the config and its includes did; and the patterns inlined."""
    reader = Reader(path, config_id)
    for _ in reader:
        pass
    patterns: list[str] = []

    def emit(file: Path) -> list[str]:
        out: list[str] = []
        for number, raw in enumerate(file.read_text(errors="replace").split("\n"), 1):
            include = reader.includes.get((str(file), number))
            if include is None:
                out.append(raw)
                continue
            patterns.append(include[0])
            out.append(f"# {raw.strip()}   (inlined below)")
            for f in include[1]:
                out += emit(f)
        return out

    lines = emit(path)
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n", patterns
