"""Checks a drawn figure's labels: none overlaps another, a marker or the legend, and all stay inside.

`problems(fig)` is what the tests run on every committed plot (with the
renderer's own text boxes), and what `labels.annotate` is built to satisfy.
"""

import math

from .plot_labels import outside, overlap, overlapping_pairs, point_box


def _marker_boxes(ax, renderer):
    """Boxes of the markers drawn on `ax`: lines with markers, and scatter points."""
    from matplotlib.collections import PathCollection

    boxes = []
    px = ax.figure.dpi / 72
    for line in ax.get_lines():
        if line.get_marker() in (None, "", "None", " ") or not line.get_visible():
            continue
        r = line.get_markersize() / 2 * px
        thin = line.get_markeredgewidth() / 2 * px  # error bar caps: "_" and "|" are lines, not squares
        rx, ry = {"_": (r, thin), "|": (thin, r)}.get(line.get_marker(), (r, r))
        xy = line.get_transform().transform(line.get_xydata())
        boxes += [(x - rx, y - ry, x + rx, y + ry) for x, y in xy]
    for collection in ax.collections:
        if isinstance(collection, PathCollection) and len(collection.get_offsets()):
            sizes = collection.get_sizes()
            xy = collection.get_offset_transform().transform(collection.get_offsets())
            for i, p in enumerate(xy):
                r = math.sqrt(sizes[i % len(sizes)]) / 2 * px * 0.8  # a star's points leave room at the corners
                boxes.append(point_box(p, r))
    return boxes


def problems(fig):
    """What is wrong with the labels of a figure: `[]` when every label reads.

    Checks each axes' texts (its labels, `ax.texts`) with the renderer's
    boxes: that no two overlap, that none covers a marker (a line's
    markers, a scatter's points) or the legend, and that each lies inside
    the figure and its axes.

    Returns:
        Sentences naming the labels at fault.

    Example:

    >>> from matplotlib.backends.backend_agg import FigureCanvasAgg
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(); _ = FigureCanvasAgg(fig); ax = fig.add_subplot()
    >>> _ = ax.text(0.5, 0.5, "one"), ax.text(0.5, 0.5, "two")
    >>> problems(fig)
    ["'one' overlaps 'two'"]
    """
    from matplotlib.text import Text

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    found = []
    figure_box = tuple(fig.bbox.extents)
    for ax in fig.axes:
        texts = [t for t in ax.texts if t.get_visible() and t.get_text().strip()]
        # The text's own box: an Annotation's get_window_extent also spans its leader line.
        boxes = [tuple(Text.get_window_extent(t, renderer).extents) for t in texts]
        names = [repr(t.get_text()) for t in texts]
        found += [f"{names[i]} overlaps {names[j]}" for i, j in overlapping_pairs(boxes)]
        found += [f"{names[i]} is outside the figure" for i in outside(boxes, figure_box)]
        found += [f"{names[i]} is outside the axes" for i in outside(boxes, tuple(ax.bbox.extents))]
        markers = _marker_boxes(ax, renderer)
        found += [f"{names[i]} covers a marker at ({(m[0] + m[2]) / 2:.0f}, {(m[1] + m[3]) / 2:.0f}) px"
                  for i, box in enumerate(boxes) for m in markers if overlap(box, m)]
        legend = ax.get_legend()
        if legend is not None:
            extent = tuple(legend.get_window_extent(renderer).extents)
            found += [f"{names[i]} overlaps the legend" for i, box in enumerate(boxes) if overlap(box, extent)]
    return found
