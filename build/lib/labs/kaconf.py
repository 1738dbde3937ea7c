"""A reader for keepalived's configuration syntax: `keyword args... {` blocks, `!`/`#` comments.

Used to check what was rendered (tests) and to read a lab's configs back (lint, analysis),
so that both look at the file keepalived reads rather than at the data it came from.
"""
from __future__ import annotations

from dataclasses import dataclass, field


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


def parse(text: str) -> Block:
    root = Block("<root>")
    stack = [root]
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("!", 1)[0].split("#", 1)[0].strip()
        if not line:
            continue
        words = line.replace("{", " { ").replace("}", " } ").split()
        while words:
            if words[0] == "}":
                if len(stack) == 1:
                    raise ValueError(f"line {number}: unbalanced '}}'")
                stack.pop()
                words = words[1:]
                continue
            if "{" in words:
                i = words.index("{")
                block = Block(words[0], words[1:i], line=number)
                stack[-1].children.append(block)
                stack.append(block)
                words = words[i + 1:]
            else:
                if "}" in words:
                    i = words.index("}")
                    head, words = words[:i], words[i:]
                else:
                    head, words = words, []
                stack[-1].children.append(Block(head[0], head[1:], line=number))
    if len(stack) != 1:
        raise ValueError(f"unclosed block {stack[-1].keyword!r} opened on line {stack[-1].line}")
    return root
