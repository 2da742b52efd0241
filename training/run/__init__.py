"""One run: the fit itself, checkpoints, atomic writes, signals, distribution, the teacher."""
