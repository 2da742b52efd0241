"""Publishing: a run's weights into the zoo (`manifest`), and where they came from (`provenance`)."""
