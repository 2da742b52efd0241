"""`python -m constrained_zoo.training.gpu_check` (`make gpu-check`), on a CPU, on a tiny subset.

The JAX path must run where TensorFlow is not installed (the GPU machines
this project borrows): it runs here with `tensorflow` made unimportable.
"""

import subprocess
import sys

from tests.training import cli

WITHOUT_TENSORFLOW = """
import runpy, sys
sys.modules["tensorflow"] = None  # `import tensorflow` (and any tensorflow.*) now raises ImportError
sys.argv = ["gpu_check", *sys.argv[1:]]
try:
    runpy.run_module("constrained_zoo.training.gpu_check", run_name="__main__")
except SystemExit as exit:
    code = exit.code
loaded = sorted(m for m, module in sys.modules.items() if m.split(".")[0] == "tensorflow" and module is not None)
print("tensorflow modules loaded:", loaded)
sys.exit(code)
"""

TINY = ("--dataset", "digits", "--max-train-examples", "128", "--batch-size", "64")


def test_gpu_check_on_jax_without_tensorflow():
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_TENSORFLOW, *TINY], cwd=cli.REPO,
        env={**cli.ENV, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"},
        capture_output=True, text=True, timeout=cli.TIMEOUT,
    )
    cli.check(done)
    out = done.stdout
    assert "backend jax" in out and "devices: cpu:0" in out
    assert "precision mixed_bfloat16; jit_compile true" in out  # mixed precision and XLA, as on a GPU
    families = ["mlp", "fully_connected", "locally_connected", "shared_conv", "multi_channel_conv"]
    rows = [line.split() for line in out.splitlines() if line.split()[1:2] and line.split()[1] in families]
    assert [row[1] for row in rows] == families, out  # one model of each family, each with its step time
    assert all(float(row[5]) > 0 for row in rows), out
    assert "tensorflow modules loaded: []" in out


def test_gpu_check_refuses_a_missing_data_dir(tmp_path):
    done = subprocess.run([sys.executable, "-m", "constrained_zoo.training.gpu_check", "--data-dir", str(tmp_path / "none")],
                          cwd=cli.REPO, env={**cli.ENV, "KERAS_BACKEND": "jax"}, capture_output=True, text=True,
                          timeout=cli.TIMEOUT)
    cli.check(done, returncode=2)
    assert "--data-dir" in done.stderr and "no such folder" in done.stderr
