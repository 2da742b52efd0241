"""The README's statements about what the data support, checked against the intervals they rest on.

The README's first bullets say in words what docs/results.md's generated
blocks compute. Each test regenerates the block from the committed run
records and checks that the verdict the README states is the one the
intervals give: if the records change the verdict, the README must change
with them. (The studies under committed protocols write their findings
into the README themselves: `findings` blocks, `protocol_findings`.)
"""

import os
import re

from constrained_zoo.training import readme

README = open(os.path.join(readme.REPO, "README.md"), encoding="utf-8").read()


def _sentence(block, start):
    """The generated sentence of `block` that begins with `start`."""
    [line] = [line for line in block.splitlines() if line.startswith(start)]
    return line


def _changes(block, label):
    """The verdicts of a findings sentence's changes as data shrink: (true order, control, spatial part)."""
    [line] = [line for line in block.splitlines() if line.startswith(f"- {label}:")]
    return tuple(re.findall(r"points \((grows as data shrink|shrinks as data shrink|not resolved)\)",
                            line.split("From n =")[1]))


def _assert_the_mnist1d_10k_verdicts():
    """Checks the verdicts the README and notebook 01 state against the study's findings; returns the block."""
    block = readme.generate_block("findings results/studies/mnist1d_10k/protocol.json")
    grows, shrinks, open_ = "grows as data shrink", "shrinks as data shrink", "not resolved"
    assert _changes(block, "SharedConv − fully connected") == (grows, grows, open_)
    assert _changes(block, "MultiChannelConv − fully connected")[0] == open_
    assert _changes(block, "SharedConv − locally connected")[2] == grows
    assert _changes(block, "locally connected − fully connected")[2] == shrinks
    return block


def test_mnist1d_most_of_what_grows_as_data_shrink_is_not_the_spatial_prior():
    said = " ".join(README.split())
    assert "SharedConv's lead over a fully connected model grows from 3,600 training sequences to 500" in said
    assert "it grows as well with the positions shuffled (the control)" in said
    assert "(true order minus shuffled) does not change resolvably" in said
    assert "MultiChannelConv's lead over fully connected does not change resolvably" in said
    assert ("what sharing adds on top of locality (SharedConv over locally connected) gains more from the "
            "spatial order as data shrink, while what locality alone gains from it shrinks") in said
    _assert_the_mnist1d_10k_verdicts()


def _fashion_changes():
    """The earlier Fashion-MNIST studies' gap changes, as the README and notebook 01 cite them: `{folder: "-2.2 points [-4.7, +0.4]"}`."""
    found = {}
    for folder, said in (("fashion_mnist_10k", "neither widens nor narrows resolvably"),
                         ("fashion_mnist_50k", "the gap convolution − fully connected narrows:")):
        block = readme.generate_block(f"sample_efficiency results/sample_efficiency/{folder} 0.7,0.8,0.85,0.88")
        line = _sentence(block, "- As data shrink from n = 54,000 to n = 1,000")
        assert said in line
        change, low, high = re.search(r"changes by ([+-]\d+\.\d) points, 95% interval \[([+-]\d+\.\d), ([+-]\d+\.\d)\]",
                                      line).groups()
        found[folder] = f"{change} points [{low}, {high}]"
    return found


def test_fashion_mnist_the_convolutions_lead_does_not_grow_as_data_shrink():
    said = " ".join(README.split())
    changes = _fashion_changes()
    assert (f"at about 10k weights the change is not resolved, {changes['fashion_mnist_10k']} from 54,000 images to "
            f"1,000; at about 50k it narrows, {changes['fashion_mnist_50k']})") in said
    assert "That study had no shuffled control" in README  # an earlier protocol: it says so


def test_notebook_01_reads_the_mnist1d_study_as_its_findings_do():
    import nbformat  # pylint: disable=import-outside-toplevel

    notebook = nbformat.read(os.path.join(readme.REPO, "notebooks", "01_from_fully_connected_to_convolutions.ipynb"), 4)
    said = " ".join(" ".join(c.source for c in notebook.cells if c.cell_type == "markdown").split())
    assert "SharedConv's lead over the fully connected model grows by about 19 points" in said
    assert "it grows about as much with the positions shuffled" in said
    assert "(true order minus shuffled) does not change resolvably" in said
    assert "MultiChannelConv's lead over fully connected does not change resolvably" in said
    assert ("what sharing adds on top of locality (SharedConv minus locally connected) gains more from the "
            "spatial order as data shrink, while what locality alone gains from it shrinks") in said
    assert "Without the control it cannot say which part is the spatial prior's" in said  # Fashion: the earlier study
    changes = _fashion_changes()
    assert (f"it changes by {changes['fashion_mnist_10k']} at about 10k weights (not resolved) and by "
            f"{changes['fashion_mnist_50k']} at about 50k (it narrows") in said
    block = _assert_the_mnist1d_10k_verdicts()
    shared = _sentence(block, "- SharedConv − fully connected:").split("From n =")[1]
    true, shuffled = (float(x) for x in re.findall(r"by ([+-]\d+\.\d) \[", shared)[:2])
    assert round(true) == 19 and abs(true - shuffled) < 2  # "about 19", "about as much"


def test_results_md_the_earlier_mnist1d_study_is_superseded_where_the_protocol_agrees_and_differs():
    with open(os.path.join(readme.REPO, "docs", "results.md"), encoding="utf-8") as f:
        said = " ".join(f.read().split())
    assert ("They agree that SharedConv's lead over fully connected grows as data shrink in both conditions "
            "while its spatial part does not change resolvably.") in said
    assert ("They differ on MultiChannelConv: its spatial part, which shrinks as data shrink here, does not "
            "change resolvably under the protocol.") in said
    earlier = readme.generate_block("control results/sample_efficiency/mnist1d_10k "
                                    "results/sample_efficiency/mnist1d_10k_shuffled")
    shared = _sentence(earlier, "- sharedconv1d_base − mlp_1d_small:")
    assert shared.count("(grows as data shrink)") == 1 and shared.endswith("(not resolved).")
    assert _sentence(earlier, "- cnn1d_base − mlp_1d_small:").endswith("(shrinks as data shrink).")
    block = readme.generate_block("findings results/studies/mnist1d_10k/protocol.json")
    grows, open_ = "grows as data shrink", "not resolved"
    assert _changes(block, "SharedConv − fully connected") == (grows, grows, open_)
    assert _changes(block, "MultiChannelConv − fully connected")[2] == open_


SHIFT_FAMILIES = ("shift_families results/fashion_mnist 1,2,6 locally_connected-fully_connected,locally_connected-mlp,"
                  "low_rank_locally_connected-locally_connected,shared_conv-locally_connected,"
                  "multi_channel_conv-locally_connected,shared_conv-multi_channel_conv")


def _shift_block():
    """The shift block's two tables: `({family: {column: (mean, low, high)}}, {(pair, measure): (d, low, high, verdict)})`."""
    block = readme.generate_block(SHIFT_FAMILIES)
    spread = re.compile(r"(-?\d+\.\d)|\+(\d+\.\d)")
    families, pairs = {}, {}
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 6 and cells[1].isdigit():
            columns = ("1 px", "2 px", "6 px", "accuracy at 6 px")
            families[cells[0]] = {c: tuple(float(a or b) for a, b in spread.findall(cell))
                                  for c, cell in zip(columns, cells[2:])}
        elif len(cells) == 5 and " − " in cells[0] and cells[3].startswith("["):
            low, high = (float(x) for x in cells[3].strip("[]").split(","))
            pairs[(cells[0], cells[1])] = (float(cells[2]), low, high, cells[4])
    return families, pairs


def _points_range(families, names, column):
    """'7.8-8.6': the smallest and largest loss (or accuracy) over the families' models, as the prose writes it."""
    values = [v for name in names for v in families[name][column][1:]]
    return f"{min(abs(v) for v in values):.1f}-{max(abs(v) for v in values):.1f}"


def _interval(pairs, pair, measure):
    d, low, high, _ = pairs[(pair, measure)]
    return f"{d:+.1f} points [{low:+.1f}, {high:+.1f}]" if measure.startswith("accuracy") else \
        f"[{low:+.1f}, {high:+.1f}]"


def test_results_md_the_shift_paragraphs_state_the_family_blocks_figures_and_verdicts():
    families, pairs = _shift_block()
    text = " ".join(open(os.path.join(readme.REPO, "docs", "results.md"), encoding="utf-8").read().split())
    fully = ("mlp", "fully_connected")
    assert f"every one is at {_points_range(families, families, 'accuracy at 6 px')}%" in text
    assert (f"lose {_points_range(families, fully, '1 px')} points at 1 pixel and "
            f"{_points_range(families, fully, '2 px')} at 2") in text
    lc = "locally_connected − fully_connected"
    d1, d2 = pairs[(lc, "change at 1 px")][0], pairs[(lc, "change at 2 px")][0]
    assert (f"loses {_points_range(families, ['locally_connected'], '1 px')} and "
            f"{_points_range(families, ['locally_connected'], '2 px')}, resolvably less than FullyConnected2D "
            f"({d1:+.1f} points {_interval(pairs, lc, 'change at 1 px')} at 1 pixel, "
            f"{d2:+.1f} {_interval(pairs, lc, 'change at 2 px')} at 2) and than the MLPs") in text
    for s in (1, 2):
        for pair in (lc, "locally_connected − mlp", "shared_conv − locally_connected",
                     "multi_channel_conv − locally_connected"):
            assert pairs[(pair, f"change at {s} px")][3].endswith("loses less"), (pair, s)
        assert pairs[("shared_conv − multi_channel_conv", f"change at {s} px")][3] == "not resolved"
    assert (f"(SharedConv {_points_range(families, ['shared_conv'], '1 px')}, MultiChannelConv "
            f"{_points_range(families, ['multi_channel_conv'], '1 px')}), resolvably less than locality alone at 1 "
            "and 2 pixels; between the two kinds of convolution the difference is not resolved there") in text
    assert pairs[("multi_channel_conv − locally_connected", "change at 6 px")][3] == "not resolved"
    assert "At 6 pixels the MultiChannelConv models have lost as much as the locally connected ones (the difference is not resolved)" in text
    for pair in ("shared_conv − multi_channel_conv", "shared_conv − locally_connected"):
        assert pairs[(pair, "accuracy at 6 px")][3] == "shared_conv is more accurate"
    others = [f for f in families if f != "shared_conv"]
    assert (f"at 6 pixels they are at {_points_range(families, ['shared_conv'], 'accuracy at 6 px')}%, resolvably "
            f"more accurate than the MultiChannelConv models "
            f"({_interval(pairs, 'shared_conv − multi_channel_conv', 'accuracy at 6 px')}) and the locally connected "
            f"ones, and above every model of the other families (at most "
            f"{max(families[f]['accuracy at 6 px'][2] for f in others):.1f}%, a range of means)") in text
    assert min(families["shared_conv"]["accuracy at 6 px"][1:]) > max(families[f]["accuracy at 6 px"][2] for f in others)
    low_rank = "low_rank_locally_connected − locally_connected"
    assert all(pairs[(low_rank, m)][3] == "not resolved" for m in ("change at 1 px", "change at 2 px", "change at 6 px"))
    d = pairs[(low_rank, "change at 1 px")][0]
    assert (f"lose {_points_range(families, ['low_rank_locally_connected'], '1 px')} points at 1 pixel and "
            f"{_points_range(families, ['low_rank_locally_connected'], '2 px')} at 2, and their difference from the "
            f"locally connected models is not resolved at any shift ({d:+.1f} points "
            f"{_interval(pairs, low_rank, 'change at 1 px')} at 1 pixel)") in text


def test_notebook_01_reads_the_shift_families_as_their_intervals_do():
    import nbformat  # pylint: disable=import-outside-toplevel

    notebook = nbformat.read(os.path.join(readme.REPO, "notebooks", "01_from_fully_connected_to_convolutions.ipynb"), 4)
    said = " ".join(" ".join(c.source for c in notebook.cells if c.cell_type == "markdown").split())
    _, pairs = _shift_block()
    assert ("at 1 and 2 pixels the convolutions lose resolvably less than locality alone, and locality alone "
            "resolvably less than full connection; partial sharing against locality alone is not resolved at any shift") in said
    for s in (1, 2):
        for pair in ("shared_conv − locally_connected", "multi_channel_conv − locally_connected",
                     "locally_connected − fully_connected", "locally_connected − mlp"):
            assert pairs[(pair, f"change at {s} px")][3].endswith("loses less")
    low_rank = "low_rank_locally_connected − locally_connected"
    assert all(pairs[(low_rank, f"change at {s} px")][3] == "not resolved" for s in (1, 2, 6))
    assert "only the SharedConv models, the ones with global average pooling, are resolvably more accurate there" in said
    assert pairs[("shared_conv − multi_channel_conv", "accuracy at 6 px")][3] == "shared_conv is more accurate"
    assert pairs[("multi_channel_conv − locally_connected", "accuracy at 6 px")][3] == "not resolved"
    assert pairs[("locally_connected − fully_connected", "accuracy at 6 px")][3] == "not resolved"


def test_results_md_the_earlier_studys_two_steps_point_to_the_protocols_intervals():
    text = " ".join(open(os.path.join(readme.REPO, "docs", "results.md"), encoding="utf-8").read().split())
    assert ("The protocol study's findings give both changes their intervals, and resolve both in these directions"
            in text)
    block = _assert_the_mnist1d_10k_verdicts()
    assert _changes(block, "locally connected − fully connected")[0] == "shrinks as data shrink"
    assert _changes(block, "SharedConv − locally connected")[0] == "grows as data shrink"


def test_results_md_the_partly_shared_layer_against_its_paper_on_mnist1d():
    """docs/results.md's verdicts on Elsayed et al.'s claim, against the study's generated findings."""
    text = " ".join(open(os.path.join(readme.REPO, "docs", "results.md"), encoding="utf-8").read().split())
    block = readme.generate_block("findings results/studies/lowrank_paper_mnist1d/protocol.json")
    verdict = lambda label: re.search(r"\(([^()]*)\)\.?$", _sentence(block, f"- {label}:").split(";")[0]).group(1)  # noqa: E731
    paper = "lrlc1d_r4_10k+softmax"
    assert "The paper's claim does not hold here" in text
    assert _sentence(block, "- The claim that").endswith(
        f"beats each of cnn1d_strided, lc1d_small at n = 3,600 does not hold: cnn1d_strided is ahead.")
    assert verdict(f"{paper} − cnn1d_strided (primary)") == "cnn1d_strided ahead"
    assert verdict(f"{paper} − lc1d_small (primary)") == f"{paper} ahead"
    assert "Its parameterization is not what decides" in text
    assert verdict(f"{paper} − lrlc1d_r4_10k (primary)") == "not resolved"
    assert "The exploratory rows agree at 1,000 examples" in text
    assert verdict(f"{paper} − cnn1d_strided (exploratory)") == "cnn1d_strided ahead"
    assert verdict(f"{paper} − lc1d_small (exploratory)") == f"{paper} ahead"
    assert verdict(f"{paper} − lrlc1d_r4_10k (exploratory)") == "not resolved"
    assert "no rank of the paper's mixing is resolvably ahead of the convolution at either size" in text
    for rank in (2, 8):
        line = _sentence(block, f"- lrlc1d_r{rank}_10k+softmax − cnn1d_strided (exploratory):")
        assert "+softmax ahead" not in line.split("From n =")[0]
