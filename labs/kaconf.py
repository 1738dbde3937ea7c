"""A reader for keepalived's configuration syntax: `keyword args... {` blocks, quoted
strings, `!`/`#` comments, `include` (with globs).

Used to check what was rendered (tests) and to read a lab's configs back (lint, analysis),
so that both look at the file keepalived reads rather than at the data it came from.
`keepalived -t` stays the authority on what keepalived accepts: this reader only needs to
see the structure.
"""
from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Block:
    keyword: str
    args: list[str] = field(default_factory=list)
    children: list["Block"] = field(default_factory=list)
    line: int = 0

    def all(self, keyword: str) -> list["Block"]:
        return [c for c in self.children if c.keyword == keyword]

    def one(self, keyword: str) -> "Block":
        found = self.all(keyword)
        if len(found) != 1:
            raise KeyError(f"{keyword}: {len(found)} found under {self.keyword} {' '.join(self.args)}")
        return found[0]

    def value(self, keyword: str) -> str:
        """The first argument of the single child `keyword`."""
        return self.one(keyword).args[0]


def words(line: str) -> list[str]:
    """One line's words: a quoted string is one word (quotes removed, `#`/`!` inside it
    kept), a comment runs from `#` or `!` outside quotes to the end, braces are words."""
    out: list[str] = []
    current, quoted, in_quotes = "", False, False
    for ch in line:
        if in_quotes:
            if ch == '"':
                in_quotes = False
            else:
                current += ch
        elif ch == '"':
            in_quotes, quoted = True, True
        elif ch in "#!":
            break
        elif ch in "{}" or ch.isspace():
            if current or quoted:
                out.append(current)
            current, quoted = "", False
            if not ch.isspace():
                out.append(ch)
        else:
            current += ch
    if current or quoted:
        out.append(current)
    return out


def _lines(text: str, path: Path | None, depth: int) -> list[tuple[int, list[str]]]:
    """(line number, words) of a file, `include` lines replaced by the files they name
    (relative paths from the including file's folder; globs expanded, sorted)."""
    out: list[tuple[int, list[str]]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        w = words(raw)
        if w[:1] == ["include"] and len(w) == 2 and path is not None:
            if depth > 8:
                raise ValueError(f"line {number}: include nested too deeply (a loop?)")
            pattern = w[1] if Path(w[1]).is_absolute() else str(path.parent / w[1])
            for name in sorted(glob.glob(pattern)):
                out += _lines(Path(name).read_text(errors="replace"), Path(name), depth + 1)
        elif w:
            out.append((number, w))
    return out


def parse(text: str, path: Path | None = None) -> Block:
    """The block tree of a config; with `path`, `include` lines are followed."""
    root = Block("<root>")
    stack = [root]
    for number, ws in _lines(text, path, 0):
        while ws:
            if ws[0] == "}":
                if len(stack) == 1:
                    raise ValueError(f"line {number}: unbalanced '}}'")
                stack.pop()
                ws = ws[1:]
                continue
            if ws[0] == "{":  # a brace alone on its line opens the block named just before
                if not stack[-1].children:
                    raise ValueError(f"line {number}: '{{' without a keyword")
                stack.append(stack[-1].children[-1])
                ws = ws[1:]
                continue
            end = next((i for i, x in enumerate(ws) if x in "{}"), len(ws))
            block = Block(ws[0], ws[1:end], line=number)
            stack[-1].children.append(block)
            if end < len(ws) and ws[end] == "{":
                stack.append(block)
                end += 1
            ws = ws[end:]
    if len(stack) != 1:
        raise ValueError(f"unclosed block {stack[-1].keyword!r} opened on line {stack[-1].line}")
    return root


def read(path: Path) -> Block:
    """A config file, its includes followed."""
    return parse(path.read_text(errors="replace"), path)
