"""keepalived's keyword parser: logical lines to the tree of blocks keepalived builds.

A transcription of `process_stream` and `alloc_value_block` (keepalived 2.2.7,
lib/parser.c), driven by keepalived's own keyword table (keywords.json, made from its
sources by tools/keepalived_keywords.py). What a keyword is decides what follows it:
- a block keyword (`vrrp_instance`, `real_server`, ...) opens a level whose lines are
  keywords of that block; without a `{` on the next line keepalived says so and reads on
  at the new level all the same;
- a value keyword (`virtual_ipaddress`, `track_script`, ...) takes the lines up to the
  next `}` as data, whatever they hold;
- an unknown keyword is reported and its line dropped; a `{` after it is "unexpected" and
  ignored, so its `}` closes the block it stands in: the rest of that block is read one
  level up (`vrrp_instance VI { foo { x } priority 150 }` leaves priority outside VI).
The reader is iterative: nesting depth costs no recursion.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from labs.kaconfig.lines import Diagnostics, Reader, Where, words

KEYWORDS = Path(__file__).with_name("keywords.json")


@dataclass
class Block:
    """A keyword line and, for a block or value keyword, what its braces hold."""

    keyword: str
    args: list[str] = field(default_factory=list)
    children: list["Block"] = field(default_factory=list)
    where: Where | None = None
    kind: str = "line"  # "line", "block", "values", or "root"
    text: str = ""  # the logical line as keepalived's handler sees it (script keywords split it their own way)

    @property
    def line(self) -> int:
        return self.where.line if self.where else 0

    def all(self, keyword: str) -> list["Block"]:
        return [c for c in self.children if c.keyword == keyword]

    def last(self, keyword: str) -> "Block | None":
        """The keyword's last line: keepalived's handlers overwrite, so the last one wins."""
        found = self.all(keyword)
        return found[-1] if found else None

    def one(self, keyword: str) -> "Block":
        found = self.all(keyword)
        if len(found) != 1:
            raise KeyError(f"{keyword}: {len(found)} found under {self.keyword} {' '.join(self.args)}")
        return found[0]

    def value(self, keyword: str) -> str:
        """The first argument of the single child `keyword`."""
        return self.one(keyword).args[0]


@cache
def grammar() -> dict[str, Any]:
    """keepalived 2.2.7's keyword table: {keyword: {"kind": ..., "children": {...}}}."""
    return json.loads(KEYWORDS.read_text())["root"]


@dataclass
class _Level:
    table: dict[str, Any]
    block: Block
    need_brace: bool


def build(reader: Reader) -> Block:
    """The block tree of the lines `reader` gives, keepalived's messages added to
    `reader.diagnostics`."""
    diag: Diagnostics = reader.diagnostics
    root = Block("<root>", kind="root")
    stack = [_Level(grammar(), root, False)]
    lines = iter(reader)
    for line in lines:
        ws = words(line.text)
        if not ws:
            continue
        head, level = ws[0], stack[-1]
        if level.need_brace:
            level.need_brace = False
            if head == "{" and len(stack) > 1:
                continue
            diag.add(line.where, f"'{{' missing after {level.block.keyword}: keepalived reads on inside the block")
        elif head == "{":
            diag.add(line.where, "unexpected '{' (keepalived ignores it; the '}' that matches it closes the block "
                     "around it)")
            continue
        if head == "}" and len(stack) > 1:
            stack.pop()
            continue
        entry = level.table.get(head)
        if entry is None:
            where_in = f" in {level.block.keyword}" if len(stack) > 1 else ""
            diag.add(line.where, f"unknown keyword '{head}'{where_in}: keepalived ignores the line")
            continue
        block = Block(head, ws[1:], where=line.where, kind=entry["kind"], text=line.text)
        level.block.children.append(block)
        if entry["kind"] == "values":
            block.children = _values(reader, lines, block)
        elif entry["kind"] == "block":
            stack.append(_Level(entry.get("children", {}), block, True))
    if reader.depth > 0:
        opened = stack[-1].block if len(stack) > 1 else None
        diag.add(opened.where if opened else None,
                 f"{reader.depth} '}}' missing" + (f": the {opened.keyword} block opened here never closes "
                                                   "(keepalived reads to the end of the file inside it)" if opened else ""),
                 "fatal")
    return root


def _values(reader: Reader, lines: Any, block: Block) -> list[Block]:
    """alloc_value_block(): the lines up to the first `}` as data, each its words; the
    opening `{` is expected on the next line (keepalived reads on without it)."""
    out: list[Block] = []
    need_brace = True
    for line in lines:
        ws = words(line.text)
        if not ws:
            continue
        if need_brace:
            need_brace = False
            if ws == ["{"]:
                continue
            reader.diagnostics.add(line.where, f"'{{' missing after {block.keyword}: keepalived takes the lines "
                                   "up to the next '}' as its values", "warning")
        if ws == ["}"]:
            break
        out.append(Block(ws[0], ws[1:], where=line.where, kind="value"))
    return out


def parse(path: Path, config_id: str | None = None, text: str | None = None) -> tuple[Block, Reader]:
    """The tree of a config file (its includes followed), and the reader that read it
    (its diagnostics, the files it read)."""
    reader = Reader(path, config_id, text=text)
    return build(reader), reader
