"""A user's scenario that leaves debris: a netem qdisc on lvs2's link that nothing removes
(for the shared lab's health gate: the next run must get a fresh lab)."""
from __future__ import annotations

TARGETS = ("lvs2",)
DEFAULT_TARGET = "lvs2"


def inject(lab, target):
    lab.fault("inject", f"netem delay 1ms on {target}'s link, never removed")
    lab.node(target).pexec(["tc", "qdisc", "add", "dev", lab.spec.interface, "root", "netem", "delay", "1ms"])


heal = None


def expect(model, target):
    return []
