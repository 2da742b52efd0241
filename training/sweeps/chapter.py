"""The chapter's verdict on a set of results: is convolution > locally connected > fully connected?

Each §7.1 group counts as its best family, chosen by a column the caller
names (validation accuracy, never test): convolution (SharedConv,
MultiChannelConv), locally connected, fully connected (MLP,
FullyConnected2D).
"""

#: §7.1's order, best first; each group counts as its best family (by validation).
CHAPTER_ORDER = (
    ("convolution", ("shared_conv", "multi_channel_conv")),
    ("locally connected", ("locally_connected",)),
    ("fully connected", ("mlp", "fully_connected")),
)

def family_bests(rows, key):
    """Each family's row with the highest `key` (ties: fewer parameters), best first.

    Args:
        rows: dicts with "model", "family", "params" and `key`.
        key: the column that chooses, e.g. "validation"; never "test".

    Example:

    >>> [r["model"] for r in family_bests([{"model": "a", "family": "mlp", "params": 9, "validation": 0.8},
    ...     {"model": "b", "family": "mlp", "params": 9, "validation": 0.9}], "validation")]
    ['b']
    """
    best = {}
    for row in rows:
        incumbent = best.get(row["family"])
        if incumbent is None or (row[key], -row["params"]) > (incumbent[key], -incumbent["params"]):
            best[row["family"]] = row
    return sorted(best.values(), key=lambda r: (-r[key], r["params"], r["model"]))


def chapter_check(rows, key):
    """Each §7.1 group's best row by `key`, and whether they fall in the chapter's order.

    Returns:
        `(groups, verdict)`: `groups` lists `(group, row or None)` in
        `CHAPTER_ORDER`'s order; `verdict` is True when convolution >
        locally connected > fully connected strictly by `key`, False when
        not, None when a group has no row.

    Example:

    >>> rows = [{"model": "c", "family": "multi_channel_conv", "params": 9, "validation": 0.9},
    ...         {"model": "l", "family": "locally_connected", "params": 9, "validation": 0.8},
    ...         {"model": "f", "family": "mlp", "params": 9, "validation": 0.7}]
    >>> chapter_check(rows, "validation")[1]
    True
    """
    bests = family_bests(rows, key)
    groups = []
    for group, families in CHAPTER_ORDER:
        within = [r for r in bests if r["family"] in families]
        groups.append((group, within[0] if within else None))
    if any(row is None for _, row in groups):
        return groups, None
    values = [row[key] for _, row in groups]
    return groups, all(a > b for a, b in zip(values, values[1:]))


def verdict_line(groups, verdict, key, key_name):
    """One sentence: the three groups' figures by `key`, best first, and whether that is the chapter's order."""
    present = sorted((r[key], g, r["model"]) for g, r in groups if r is not None)[::-1]
    figures = " > ".join(f"{g} {value:.4f} ({model})" for value, g, model in present)
    if verdict is None:
        missing = ", ".join(g for g, r in groups if r is None)
        return f"the chapter's order cannot be checked: no {missing} model (by {key_name}: {figures})"
    said = "the chapter's order" if verdict else "NOT the chapter's order"
    return f"by {key_name}: {figures}: {said} (convolution > locally connected > fully connected)"

