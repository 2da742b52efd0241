"""docs/pytorch.md runs: its python blocks, in order, in one process under KERAS_BACKEND=torch.

The blocks build on each other (the layer, then the loop that trains it, then
its state_dict), as a reader runs them; the process starts in a temporary
folder, with a timeout that turns a hang into a failure.
"""

import os
import subprocess
import sys

import pytest

from tests.test_docs import REPO, torch_blocks

TIMEOUT = 600  # seconds: a zoo model's fine-tuning steps on two busy cores


def test_the_pytorch_page_has_torch_blocks():
    assert len(torch_blocks("docs/pytorch.md")) >= 4


@pytest.mark.skipif(not all(__import__("importlib.util").util.find_spec(m) for m in ("torch",)),
                    reason="needs torch")
def test_the_pytorch_page_runs_under_torch(tmp_path):
    script = "\n\n".join(torch_blocks("docs/pytorch.md"))
    (tmp_path / "page.py").write_text(script)
    env = dict(os.environ, KERAS_BACKEND="torch", PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "page.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr[-4000:]
