"""Publishing a finished run's weights into the zoo: `python -m constrained_zoo.training.publishing RUN_DIR`.

- `publish`: the command; it loads the run into the zoo's own model,
  re-checks its test accuracy and builds its manifest entry.
- `install`: the weights file and its manifest entry, replaced together
  under the root's lock.

The manifest's format and its files' names are `models.manifest`'s.
"""
