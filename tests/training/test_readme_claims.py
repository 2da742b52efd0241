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


def _growth_cell(block, row):
    """The last cell (smallest size minus largest) of the control table's `row`, as (mean, low, high)."""
    [line] = [line for line in block.splitlines() if line.startswith(f"| {row} |")]
    mean, low, high = re.fullmatch(r"\s*([+-][\d.]+) \[([+-][\d.]+), ([+-][\d.]+)\]\s*", line.split("|")[-2]).groups()
    return float(mean), float(low), float(high)


def test_mnist1d_what_grows_as_data_shrink_is_not_the_spatial_prior():
    assert "lead of SharedConv over a fully connected model grows" in README
    assert "with the positions shuffled (the control)\n  that lead grows as well" in README
    assert "(true order minus shuffled) does not grow" in README
    assert "For MultiChannelConv that\n  part shrinks as data shrink." in README
    block = readme.generate_block("control results/sample_efficiency/mnist1d_10k "
                                  "results/sample_efficiency/mnist1d_10k_shuffled")
    shared = _sentence(block, "- sharedconv1d_base − mlp_1d_small:")
    assert "the raw gap changes by" in shared and shared.count("(grows as data shrink)") == 1
    assert shared.endswith("(not resolved).")  # its spatial part
    assert _growth_cell(block, "sharedconv1d_base − mlp_1d_small, shuffled")[1] > 0  # grows in the control too
    assert _sentence(block, "- cnn1d_base − mlp_1d_small:").endswith("(shrinks as data shrink).")


def test_fashion_mnist_the_convolutions_lead_does_not_grow_as_data_shrink():
    assert "at about 10k weights the change is not resolved;\n  at about 50k it narrows" in README
    for folder, said in (("fashion_mnist_10k", "neither widens nor narrows resolvably"),
                         ("fashion_mnist_50k", "the gap convolution − fully connected narrows:")):
        block = readme.generate_block(f"sample_efficiency results/sample_efficiency/{folder} 0.7,0.8,0.85,0.88")
        assert said in _sentence(block, "- As data shrink from n = 54,000 to n = 1,000")
