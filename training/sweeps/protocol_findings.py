"""What a protocol study supports, in sentences generated from its intervals.

The README states a study's findings in words; here the words are written
from the same paired intervals as the report's tables (`protocol_tables`),
so they cannot drift from the numbers. For each difference the report
makes (the chapter's, or the protocol's `comparisons`):

- its value at the largest and the smallest size, with who is ahead, or
  "not resolved" where the interval covers zero;
- with several sizes, how it changes as data shrink (the smallest size
  minus the largest, paired by seed): "grows", "shrinks" or "not resolved";
- with a control, the same change in the control and in the spatial order's
  part (true order minus the control, seed by seed);
- where one model is the `a` of several primary comparisons at a size
  with models of other groups (a claim that it beats each of those
  families, as Elsayed et al. claim of the partly shared layer), whether
  the claim holds: every interval above zero (an intersection-union test),
  one below zero (it does not), or neither. A primary comparison within
  the model's own group (the paper's mixing against the free one) asks
  another question and stands on its own line.

In the docs: `<!-- generated: findings results/studies/mnist1d_10k/protocol.json -->`;
until the protocol is complete the block says how far it is and shows no
accuracy.
"""

from .protocol_report import at_root, block as progress_or_report, gather
from .paired import growth
from .protocol_tables import differences, pairs, said, spatial_parts


def _interval(mean, low, high):
    return f"{mean:+.1f} [{low:+.1f}, {high:+.1f}]" if low is not None else f"{mean:+.1f} (one seed)"


def _change(by_seed_small, by_seed_large, level):
    """A difference's change from the largest size to the smallest, in words.

    E.g. `"+3.2 [+1.0, +5.4] points (grows as data shrink)"`.
    """
    mean, low, high, _ = growth(by_seed_small, by_seed_large, level)
    return f"{_interval(mean, low, high)} points ({said(mean, low, high, '', '', grows=True)})"


def sentence(protocol, label, more, less, by_condition):
    """One finding: `label` (`more − less`) at the ends of the sizes, its change, and the control's part."""
    true, *control = [c.name for c in protocol.conditions]
    by_size, level = by_condition[true][label], protocol.interval
    ends = sorted(by_size, reverse=True)[:1] + sorted(by_size)[:1] if len(by_size) > 1 else sorted(by_size)
    at = "; ".join(f"{_interval(*by_size[n][:3])} points at n = {n:,} ({said(*by_size[n][:3], more, less)})"
                   for n in ends)
    text = f"- {label}: {at}"
    if len(by_size) > 1:
        small, large = min(by_size), max(by_size)
        text += (f". From n = {large:,} to n = {small:,} it changes by "
                 f"{_change(by_size[small][4], by_size[large][4], level)}")
        other = by_condition[control[0]].get(label) if control else None
        if other and small in other and large in other:
            parts = spatial_parts(by_size, other)
            text += (f"; {control[0]}, by {_change(other[small][4], other[large][4], level)}; the part the spatial "
                     f"order buys ({true} minus {control[0]}), by {_change(parts[small], parts[large], level)}")
    return text + "."


def joint_claims(protocol, by_condition, groups):
    """One line per (model, size) that is the `a` of two or more primary comparisons with other groups: does it beat them all?

    `groups` is `{model name: its chapter group}`; a comparison within one group is left out of the claim.
    """
    true = protocol.conditions[0].name
    claims = {}
    for c in protocol.comparisons:
        if groups.get(c.a) == groups.get(c.b):
            continue
        for size in c.sizes if c.role == "primary" else ():
            claims.setdefault((c.a, size), []).append(c)
    lines = []
    for (a, size), said_of in claims.items():
        found = [(c.b, by_condition[true].get(f"{c.a} − {c.b} ({c.role})", {}).get(size)) for c in said_of]
        if len(found) < 2 or any(value is None for _, value in found):
            continue
        others = ", ".join(b for b, _ in found)
        if all(v[1] is not None and v[1] > 0 for _, v in found):
            verdict = "holds: every interval lies above 0"
        elif any(v[2] is not None and v[2] < 0 for _, v in found):
            verdict = "does not hold: " + ", ".join(f"{b} is ahead" for b, v in found if v[2] is not None and v[2] < 0)
        else:
            verdict = "is not resolved: an interval covers 0"
        lines.append(f"- The claim that {a} beats each of {others} at n = {size:,} {verdict}.")
    return lines


def findings(protocol, cells):
    """The bullet lines of a complete protocol's findings (see the module docstring)."""
    by_condition = {c.name: differences(protocol, cells, c.name) for c in protocol.conditions}
    lines = [f"From `{protocol.path}` (test accuracy in points, paired by seed, {protocol.interval:.0%} "
             "t-intervals; \"not resolved\" where an interval covers 0):", ""]
    for label, _, _, _, more, less in pairs(protocol, cells):
        if label in by_condition[protocol.conditions[0].name]:
            lines.append(sentence(protocol, label, more, less, by_condition))
    groups = {name: cell["group"] for (_, name, _), cell in cells.items()}
    return lines + joint_claims(protocol, by_condition, groups)


def block(protocol):
    """The docs' `findings` block: the findings once the protocol is complete, until then its progress."""
    cells, missing = gather(protocol)
    if missing:
        return progress_or_report(protocol)
    return "\n".join(findings(protocol, cells)) + "\n"


def findings_block(root, path):
    """The docs' `findings PATH` block: `block` of the protocol file `path` under `root`."""
    return at_root(root, path, block)


#: The generated-block kinds this module writes (`training.readme`): name -> (function, number of arguments).
BLOCKS = {"findings": (findings_block, 1)}
