"""What a reader sees on the charts of a real run (tests/data/runs/: a stop_keepalived
run of the dual_master lab, with VIP moves, ARP bands, model windows and clients-whole
bounds): no label drawn over another or over the probe ticks, every kind of mark named in
the legend, whole phase names, a compare chart that says which runs it shows."""
from __future__ import annotations

import json
import math
from itertools import combinations

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.transforms import Bbox

from conftest import REPO
from labs.analysis import data
from labs.report import charts

REAL = REPO / "tests" / "data" / "runs" / "20261205T074549Z-dual_master-stop_keepalived"


def drawn(fig):
    """The figure drawn once (as savefig would), and its renderer."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def lanes(fig):
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]


def tick_boxes(ax):
    """Each row of probe ticks (a scatter: answered or failed) as the window box its
    markers cover, their height included."""
    boxes = []
    for c in ax.collections:
        if not isinstance(c, PathCollection) or not len(c.get_offsets()):
            continue
        xy = ax.transData.transform(c.get_offsets())
        half = math.sqrt(max(c.get_sizes())) / 2 * ax.figure.dpi / 72
        boxes.append(Bbox([[xy[:, 0].min() - half, xy[:, 1].min() - half], [xy[:, 0].max() + half, xy[:, 1].max() + half]]))
    return boxes


def label_boxes(fig, renderer):
    """(text, window box) of every non-empty text drawn in or on a lane."""
    return [(t.get_text(), t.get_window_extent(renderer)) for ax in lanes(fig) for t in ax.texts
            if t.get_visible() and t.get_text().strip()]


def assert_apart(boxes):
    clashes = [(a, b) for (a, ba), (b, bb) in combinations(boxes, 2) if ba.overlaps(bb)]
    assert not clashes, clashes


def within(box, outer):
    return outer.x0 <= box.x0 and box.x1 <= outer.x1 and outer.y0 <= box.y0 and box.y1 <= outer.y1


def mark_labels(ax):
    """The legend label of every mark drawn in a lane (lines, bands, ticks, shading)."""
    return [a.get_label() for a in [*ax.lines, *ax.collections, *ax.patches]]


def legend_names(fig):
    return {t.get_text() for legend in [*fig.legends, *(ax.get_legend() for ax in fig.axes)] if legend
            for t in legend.get_texts()}


@pytest.fixture
def real():
    return data.load(REAL), json.loads((REAL / "summary.json").read_text())


def test_timeline_labels_never_overlap_each_other_or_the_probe_ticks(real):
    fig = charts.timeline(*real)
    renderer = drawn(fig)
    boxes = label_boxes(fig, renderer)
    assert len(boxes) >= 10  # the real run's moves, ARP changes, bounds, VIP changes, the error window
    assert_apart(boxes)
    for ax in lanes(fig):
        ticks = tick_boxes(ax)
        assert ticks
        on_ticks = [(t.get_text(), n) for t in ax.texts for n, box in enumerate(ticks)
                    if t.get_text().strip() and t.get_window_extent(renderer).overlaps(box)]
        assert not on_ticks, on_ticks
    # and none cut off by its lane (a label drawn half outside would be clipped)
    for ax in lanes(fig):
        inside = ax.get_window_extent(renderer)
        for t in ax.texts:
            box = t.get_window_extent(renderer)
            if t.get_clip_on() and t.get_text().strip():
                assert within(box, inside), t.get_text()


def test_timeline_legend_names_every_kind_of_mark(real):
    fig = charts.timeline(*real)
    renderer = drawn(fig)
    names = legend_names(fig)
    for ax in lanes(fig):
        unnamed = [a for a in [*ax.lines, *ax.collections, *ax.patches] if a.get_label().startswith("_")]
        assert not unnamed, unnamed
        assert set(mark_labels(ax)) <= names
    # the kinds this run has, each by name
    for kind in ("server1", "server2", "failed", "ARP", "model", "measured", "clients whole", "error window",
                 "VIP added", "VIP removed", "fault"):
        assert any(kind in n for n in names), (kind, names)
    # the legend is read, not drawn over: it overlaps no lane, no title
    legend = fig.legends[0].get_window_extent(renderer)
    assert within(legend, fig.bbox)
    assert not any(legend.overlaps(ax.get_window_extent(renderer)) for ax in lanes(fig))
    assert not legend.overlaps(fig._suptitle.get_window_extent(renderer))


def test_timeline_of_the_fixture_run_is_apart_too(tmp_path):
    """The hand-made run of test_charts (an outage and two moves): the same rules."""
    from unit.analysis_fixture import T0, events, folder, graceful_lvs1, outage_until, probes
    from labs.analyze import analyze

    results = folder(tmp_path, "stop_keepalived", "lvs1")
    events(results, [*graceful_lvs1(0.70), {"t": T0 + 20, "kind": "end"}])
    probes(results, -3, 20, outage_until(0.7))
    fig = charts.timeline(data.load(results), analyze(results))
    renderer = drawn(fig)
    assert_apart(label_boxes(fig, renderer))
    for ax in lanes(fig):
        assert not [t.get_text() for t in ax.texts for box in tick_boxes(ax)
                    if t.get_text().strip() and t.get_window_extent(renderer).overlaps(box)]


def test_compare_has_a_title_naming_both_runs_and_a_legend_for_every_line(real, tmp_path):
    from labs import compare

    fig = compare.figure(REAL, REAL)
    renderer = drawn(fig)
    title = fig._suptitle.get_text()
    assert title.count(REAL.name) == 2 and "stop_keepalived on lvs1" in title, title
    names = legend_names(fig)
    for ax in lanes(fig):
        unnamed = [a for a in [*ax.lines, *ax.collections] if a.get_label().startswith("_")]
        assert not unnamed, unnamed
        assert set(mark_labels(ax)) <= names
    assert any("inject" in n for n in names) and any("heal" in n for n in names), names
    boxes = [("title", fig._suptitle.get_window_extent(renderer))]
    boxes += [(f"legend {n}", legend.get_window_extent(renderer)) for n, legend in enumerate(fig.legends)]
    boxes += [(ax.get_title(loc="left"), ax.title.get_window_extent(renderer)) for ax in lanes(fig) if ax.get_title()]
    boxes += [(ax.get_title(loc="left"), ax._left_title.get_window_extent(renderer)) for ax in lanes(fig)
              if ax.get_title(loc="left")]
    assert_apart(boxes)
    for name, box in boxes[:2]:
        assert within(box, fig.bbox), name
        assert not any(box.overlaps(ax.get_window_extent(renderer)) for ax in lanes(fig)), name


def test_distribution_names_each_phase_whole(real):
    fig = charts.distribution(real[1])
    renderer = drawn(fig)
    for ax in fig.axes:
        labels = [t for t in ax.get_xticklabels() if t.get_text()]
        phases = [t.get_text().split("\n")[-1] for t in labels]
        assert set(phases) == {"before", "inject", "heal"}, phases
        assert_apart([(t.get_text(), t.get_window_extent(renderer)) for t in labels])
