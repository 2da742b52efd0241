"""Constrained layers: D2L §7.1's derivation, one Keras 3 layer per step.

From the fully connected layer on images to the convolution:

- `FullyConnected2D` / `FullyConnected1D`: every output pixel sees every
  input pixel, eq. (7.1.1).
- `LocallyConnected` / `LocallyConnected1D`: locality without weight sharing.
- `LowRankLocallyConnected` / `LowRankLocallyConnected1D`: locality with the
  kernel at each position a combination of R shared kernels, between
  locally connected (no sharing) and the convolution (full sharing).
- `SharedConv` / `SharedConv1D`: translation invariance (and, with a window,
  locality) on each channel, eqs. (7.1.2)-(7.1.3).
- `MultiChannelConv` / `MultiChannelConv1D`: the convolution with channels,
  eq. (7.1.7).

`count_params` gives any layer's parameter count without building it.
"""

from constrained_layers.fully_connected import FullyConnected1D, FullyConnected2D
from constrained_layers.locally_connected import LocallyConnected, LocallyConnected1D
from constrained_layers.low_rank import LowRankLocallyConnected, LowRankLocallyConnected1D
from constrained_layers.multi_channel_conv import MultiChannelConv, MultiChannelConv1D
from constrained_layers.counting import count_params
from constrained_layers.shared_conv import SharedConv, SharedConv1D

# 2D aliases, for symmetry with the 1D names and with Keras's Conv2D.
LocallyConnected2D = LocallyConnected
LowRankLocallyConnected2D = LowRankLocallyConnected
SharedConv2D = SharedConv
MultiChannelConv2D = MultiChannelConv

__version__ = "0.4.0.dev0"

__all__ = [
    "FullyConnected1D",
    "FullyConnected2D",
    "LocallyConnected",
    "LocallyConnected1D",
    "LocallyConnected2D",
    "LowRankLocallyConnected",
    "LowRankLocallyConnected1D",
    "LowRankLocallyConnected2D",
    "MultiChannelConv",
    "MultiChannelConv1D",
    "MultiChannelConv2D",
    "SharedConv",
    "SharedConv1D",
    "SharedConv2D",
    "count_params",
]
