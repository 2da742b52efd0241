"""Text labels placed without overlap: pure geometry, in display pixels.

A box is `(x0, y0, x1, y1)` with y upward (matplotlib's display
coordinates); a candidate is `(dx, dy, ha, va)`: the text's alignment point
(`ha` "left"/"center"/"right", `va` "bottom"/"center"/"top") sits at the
anchor moved by (dx, dy) pixels.

The rule (`place`): labels are placed one at a time, in the order given;
each takes, among its candidates whose box stays inside `bounds` and
overlaps no obstacle (markers, error bars, the legend) and no label placed
before it, the one of least cost: its ring (0 for the nearest candidates,
1 for the next, ...) plus two per line segment its box crosses and three
per leader line of an earlier label it crosses. Ties go to the earlier
candidate, so the same input gives the same layout. A label past the
nearest ring gets a leader line to its anchor. A label with no free
candidate takes the one of least overlap and is reported (`fits` False);
`overlapping_pairs` and `outside` check a finished figure.
"""

import collections
import math
import statistics

# Directions tried around a point, in order of preference (degrees,
# counterclockwise from "right"): above right first, as labels usually sit.
DIRECTIONS = (45, 0, 90, -45, 135, 180, -90, -135, 20, -20, 160, -160, 65, -65, 115, -115)
# Distances tried beyond the anchor's gap, in pixels: one ring each.
RINGS = (0, 8, 18, 30, 45, 62, 82, 105, 130)
LEADER_RING = 0

Placement = collections.namedtuple("Placement", "box dx dy ha va ring fits leader")


def overlap(a, b):
    """Area shared by boxes `a` and `b` (0 if they only touch).

    >>> overlap((0, 0, 2, 2), (1, 1, 3, 3)), overlap((0, 0, 1, 1), (1, 0, 2, 1))
    (1, 0)
    """
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0


def inside(box, bounds):
    """Whether `box` lies within `bounds` (edges included).

    >>> inside((1, 1, 2, 2), (0, 0, 2, 2)), inside((1, 1, 3, 2), (0, 0, 2, 2))
    (True, False)
    """
    return box[0] >= bounds[0] and box[1] >= bounds[1] and box[2] <= bounds[2] and box[3] <= bounds[3]


def overlapping_pairs(boxes):
    """Index pairs `(i, j)`, i < j, of boxes that overlap.

    >>> overlapping_pairs([(0, 0, 2, 2), (1, 1, 3, 3), (5, 5, 6, 6)])
    [(0, 1)]
    """
    return [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes)) if overlap(boxes[i], boxes[j])]


def outside(boxes, bounds):
    """Indices of the boxes not within `bounds`.

    >>> outside([(0, 0, 1, 1), (5, 5, 12, 6)], (0, 0, 10, 10))
    [1]
    """
    return [i for i, box in enumerate(boxes) if not inside(box, bounds)]


def box_at(anchor, size, candidate):
    """The box of a text of `size` (w, h) placed at `anchor` by `candidate`.

    >>> box_at((10, 10), (4, 2), (1, 1, "left", "bottom"))
    (11, 11, 15, 13)
    >>> box_at((10, 10), (4, 2), (0, -1, "center", "top"))
    (8.0, 7, 12.0, 9)
    """
    dx, dy, ha, va = candidate
    w, h = size
    x = anchor[0] + dx - {"left": 0, "center": w / 2, "right": w}[ha]
    y = anchor[1] + dy - {"bottom": 0, "center": h / 2, "top": h}[va]
    return (x, y, x + w, y + h)


def around(gap, rings=RINGS, directions=DIRECTIONS):
    """Candidates on rings around a point, nearest ring first; `gap` clears its marker.

    Each is `(dx, dy, ha, va, ring)`; the text is aligned away from the
    point (to the right of a point it is left-aligned, ...).

    >>> around(4, rings=(0,), directions=(0, 90))
    [(4.0, 0.0, 'left', 'center', 0), (0.0, 4.0, 'center', 'bottom', 0)]
    """
    found = []
    for ring, step in enumerate(rings):
        r = gap + step
        for degrees in directions:
            c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
            ha = "left" if c > 0.3 else "right" if c < -0.3 else "center"
            va = "bottom" if s > 0.3 else "top" if s < -0.3 else "center"
            found.append((round(r * c, 3) + 0.0, round(r * s, 3) + 0.0, ha, va, ring))
    return found


def crosses(box, segment):
    """Whether the segment `((x0, y0), (x1, y1))` passes through `box` (Liang–Barsky clipping).

    >>> crosses((0, 0, 2, 2), ((-1, 1), (3, 1))), crosses((0, 0, 2, 2), ((-1, 3), (3, 3)))
    (True, False)
    """
    (x0, y0), (x1, y1) = segment
    dx, dy = x1 - x0, y1 - y0
    lo, hi = 0.0, 1.0
    for p, q in ((-dx, x0 - box[0]), (dx, box[2] - x0), (-dy, y0 - box[1]), (dy, box[3] - y0)):
        if p == 0:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            lo = max(lo, t)
        else:
            hi = min(hi, t)
        if lo > hi:
            return False
    return True


def _leader(anchor, box):
    """The leader line from `anchor` to the nearest point of `box`."""
    x = min(max(anchor[0], box[0]), box[2])
    y = min(max(anchor[1], box[1]), box[3])
    return (tuple(anchor), (x, y))


def place(anchors, sizes, bounds, candidates, obstacles=(), segments=(), pad=1.0, leaders=None):
    """Places labels one at a time by the module's rule; returns a `Placement` each.

    Args:
        anchors: the point each label names, `(x, y)` in display pixels.
        sizes: each label's `(width, height)` in pixels.
        bounds: the box every label must stay in (e.g. the axes).
        candidates: for each label, its `(dx, dy, ha, va, ring)` in order
            of preference (`around(...)`), or one list for all.
        obstacles: boxes no label may overlap (markers, error bars, legend).
        segments: lines a label should not cover (each crossing costs 2).
        pad: pixels kept free around every label.
        leaders: for each label, whether it gets a leader line past the
            nearest ring (default: all do); a caption sliding along its own
            line needs none.

    Returns:
        A list of `Placement(box, dx, dy, ha, va, ring, fits, leader)`, in
        the order of `anchors`; `box` without the pad, `fits` False where no
        candidate was free and the least overlapping one was taken, `leader`
        whether to draw a leader line.

    Example:

    >>> a, b = place([(10, 10), (10, 10)], [(20, 6), (20, 6)], (0, 0, 100, 100),
    ...              around(3, rings=(0, 8), directions=(0, 90)))
    >>> (a.ha, a.va, b.ha, b.va, b.fits)
    ('left', 'center', 'center', 'bottom', True)
    """
    if candidates and isinstance(candidates[0], tuple):
        candidates = [candidates] * len(anchors)
    if leaders is None:
        leaders = [True] * len(anchors)
    placed, lines, result = [], [], []
    for anchor, size, options, leader in zip(anchors, sizes, candidates, leaders):
        best, best_cost, fallback, fallback_cost = None, None, None, None
        for dx, dy, ha, va, ring in options:
            box = box_at(anchor, size, (dx, dy, ha, va))
            padded = (box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad)
            clash = sum(overlap(padded, o) for o in (*obstacles, *placed))
            if not inside(box, bounds):
                clash += (box[2] - box[0]) * (box[3] - box[1])
            if clash:
                if fallback_cost is None or clash < fallback_cost:
                    fallback, fallback_cost = (box, dx, dy, ha, va, ring), clash
                continue
            cost = ring + 2 * sum(crosses(box, s) for s in segments) + 3 * sum(crosses(box, s) for s in lines)
            if leader and ring > LEADER_RING and any(crosses(p, _leader(anchor, box)) for p in placed):
                cost += 3
            if best_cost is None or cost < best_cost:
                best, best_cost = (box, dx, dy, ha, va, ring), cost
        chosen = best or fallback
        box = chosen[0]
        placed.append((box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad))
        if leader and chosen[5] > LEADER_RING:
            lines.append(_leader(anchor, box))
        result.append(Placement(*chosen, fits=best is not None, leader=leader and chosen[5] > LEADER_RING))
    return result


def point_box(point, radius):
    """The square of half-side `radius` around `point`: a marker as an obstacle.

    >>> point_box((10, 10), 3)
    (7, 7, 13, 13)
    """
    return (point[0] - radius, point[1] - radius, point[0] + radius, point[1] + radius)


def polyline(points):
    """The segments joining consecutive `points`.

    >>> polyline([(0, 0), (1, 1), (2, 0)])
    [((0, 0), (1, 1)), ((1, 1), (2, 0))]
    """
    points = [tuple(p) for p in points]
    return list(zip(points[:-1], points[1:]))


def annotate(ax, texts, points, candidates, obstacles=(), segments=(), colors=None, fontsize=7, leader_color="0.4",
             leaders=None):
    """Adds each text naming its point (data coordinates) to `ax`, placed by `place`.

    Call it last, after the axes' limits, scales, legend and layout are
    final: positions are computed in the pixels of that layout. Offsets are
    set in points, so a PNG saved at another dpi keeps the layout.

    Args:
        ax: a matplotlib Axes whose figure has a canvas that can render (Agg).
        texts: the labels.
        points: `(x, y)` in data coordinates, one per label.
        candidates: as `place`'s, pixels around the point's display position.
        obstacles: boxes in display pixels (`point_box`, a legend's extent).
        segments: segments in display pixels (`polyline`).
        colors: a text colour per label (default black).
        fontsize: in points.
        leader_color: the colour of the leader lines.
        leaders: as `place`'s.

    Returns:
        The `matplotlib.text.Annotation` of each label, in order.
    """
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    anchors = [tuple(float(v) for v in ax.transData.transform(p)) for p in points]
    sizes = []
    for text in texts:
        probe = ax.text(0, 0, text, fontsize=fontsize, transform=ax.transAxes)
        extent = probe.get_window_extent(renderer)
        sizes.append((extent.width, extent.height))
        probe.remove()
    frame = ax.get_window_extent(renderer)
    bounds = (frame.x0 + 2, frame.y0 + 2, frame.x1 - 2, frame.y1 - 2)
    points_per_pixel = 72.0 / fig.dpi
    artists = []
    placements = place(anchors, sizes, bounds, candidates, obstacles, segments, leaders=leaders)
    for i, (text, point, p) in enumerate(zip(texts, points, placements)):
        # The leader leaves the text from its aligned side, the one facing the anchor.
        relpos = ({"left": 0.0, "center": 0.5, "right": 1.0}[p.ha], {"bottom": 0.0, "center": 0.5, "top": 1.0}[p.va])
        arrow = {"arrowstyle": "-", "color": leader_color, "linewidth": 0.6, "shrinkA": 1, "shrinkB": 3,
                 "relpos": relpos}
        artists.append(ax.annotate(
            text, point, xytext=(p.dx * points_per_pixel, p.dy * points_per_pixel), textcoords="offset points",
            ha=p.ha, va=p.va, fontsize=fontsize, color=colors[i] if colors else "black",
            arrowprops=arrow if p.leader else None,
            annotation_clip=False,
        ))
    return artists


def stack(targets, heights, low, high, gap=1.0):
    """Centres for labels in one column: each as near its target as the others allow, in the same order.

    Labels whose targets are closer than their heights are pushed apart
    symmetrically (a block of touching labels sits where its labels' mean
    displacement is zero), and kept within [low, high]: the end labels of
    lines that meet are listed top to bottom in the order of the lines.

    Args:
        targets: the wanted centre of each label (e.g. its line's end), in pixels.
        heights: each label's height.
        low, high: the column's extent.
        gap: pixels between two labels.

    Returns:
        The centre of each label, in the order of `targets`.

    Example:

    >>> stack([10, 11, 50], [4, 4, 4], 0, 100)
    [8.0, 13.0, 50.0]
    """
    order = sorted(range(len(targets)), key=lambda i: (targets[i], i))
    blocks = []  # [indices, offsets of their centres from the block's bottom, its height, its bottom]
    for i in order:
        block = [[i], [heights[i] / 2], heights[i], None]
        blocks.append(block)
        while True:
            last = blocks[-1]
            last[3] = min(max(statistics.fmean(targets[j] - o for j, o in zip(last[0], last[1])), low), high - last[2])
            if len(blocks) < 2 or blocks[-2][3] + blocks[-2][2] + gap <= last[3]:
                break
            below = blocks[-2]
            shift = below[2] + gap
            below[0] += last[0]
            below[1] += [o + shift for o in last[1]]
            below[2] = shift + last[2]
            blocks.pop()
    centres = [0.0] * len(targets)
    for indices, offsets, _, bottom in blocks:
        for j, o in zip(indices, offsets):
            centres[j] = bottom + o
    return centres
