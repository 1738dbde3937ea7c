"""keepalived's configuration, read as keepalived 2.2.7 reads it: one reader for the lab
files, the timing model and lint.

    config = kaconfig.read(Path("keepalived.conf"), config_id="high")
    config.instances[0].priority          # what keepalived will run
    config.diagnostics.errors             # what keepalived -t would report, file and line

The stages follow the data: `lines` (keepalived's preprocessor: comments, `@ID` lines,
`$NAME` definitions, includes, braces), `tree` (its keyword parser, from its own keyword
table), `model` (its handlers: values, defaults, references). `oracle` runs keepalived
itself on a config and reads back what it parsed, to test this reader against it.
"""
from __future__ import annotations

from pathlib import Path

from labs.common.errors import LabError
from labs.kaconfig.lines import Diagnostic, Diagnostics, Where, flatten
from labs.kaconfig.model import Config, Instance, Script, Track, VirtualServer, from_tree
from labs.kaconfig.tree import Block, parse

__all__ = ["Block", "Config", "Diagnostic", "Diagnostics", "Instance", "Script", "Track", "VirtualServer", "Where",
           "flatten", "read", "read_checked"]


def read(path: Path, config_id: str | None = None, text: str | None = None) -> Config:
    """A config as keepalived will run it (`text`: read that instead of the file, its
    includes still relative to `path`). Never raises on the config's content: what
    keepalived would say about it is in `config.diagnostics`."""
    tree, reader = parse(path, config_id, text)
    return from_tree(tree, reader.diagnostics, [str(f) for f in reader.files])


def read_checked(path: Path, config_id: str | None = None, text: str | None = None) -> Config:
    """`read`, with a config keepalived could not read at all (no file, braces that do
    not close, a missing value, an include loop) as one LabError naming file and line."""
    if text is None and not path.is_file():
        raise LabError(f"{path}: " + ("a folder, not a keepalived config" if path.is_dir() else "no such file")
                       + "; give the path of a keepalived config")
    config = read(path, config_id, text)
    if config.diagnostics.fatal:
        raise LabError(f"{config.diagnostics.fatal[0]}; fix that line (keepalived -t -f {path} shows it too)")
    return config
