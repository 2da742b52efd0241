"""The protocol driver's sweeps side by side (`sweeps/side_by_side.py`), with real processes.

The driver (`fake_protocol.py`) is the real one, its sweeps the real sweep
with stand-in trainers (`fake_sweep.py`, `fake_train.py`), so a study of
4 chains × 3 rates × 3 seeds takes seconds. Each wait has a timeout that
turns a hang into a failure: the cases where every process survives, and
where the driver is stopped, a sweep is killed, or the driver is killed.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.training import cli
from tests.training.processes import children_of, finish, no_children_left

from constrained_zoo.training.sweeps import side_by_side

MODELS = ["mlp_1d_small", "cnn1d_base"]
RATES = [0.001, 0.003, 0.01]
SEEDS = 3


def write_protocol(tmp_path):
    data = {"study": "t", "question": "q", "dataset": "mnist1d", "budget": None, "models": MODELS, "sizes": [200],
            "steps": 10, "batch_size": 50, "lr_schedule": "cosine", "rates": RATES,
            "ladder": [0.0003, 0.001, 0.003, 0.01, 0.03], "seeds": SEEDS, "selection": "final_val_accuracy",
            "conditions": {"true order": {"pixel_shuffle": False, "out": os.fspath(tmp_path / "t")},
                           "shuffled": {"pixel_shuffle": True, "out": os.fspath(tmp_path / "s")}},
            "interval": 0.95}
    path = tmp_path / "protocol.json"
    path.write_text(json.dumps(data))
    return path


def start_driver(tmp_path, jobs, log, trainers=None):
    """`fake_protocol.py` on the test protocol; `trainers`: {"MODEL SEED": behaviour} (`fake_train.py`)."""
    env = {**cli.ENV, "FAKE_TRAINERS": json.dumps(trainers or {}), "FAKE_SWEEP_LOG": os.fspath(tmp_path / "sweeps.log")}
    with open(log, "a", encoding="utf-8") as f:
        return subprocess.Popen([sys.executable, "-m", "tests.training.fake_protocol",
                                 os.fspath(write_protocol(tmp_path)), str(jobs)],
                                cwd=cli.REPO, env=env, stdout=f, stderr=subprocess.STDOUT, text=True)


def every_run(tmp_path):
    return [tmp_path / c / "n200" / f"lr{rate:g}" / "runs" / model / f"seed{seed}"
            for c in ("t", "s") for rate in RATES for model in MODELS for seed in range(SEEDS)]


def sweeps_at_once(tmp_path):
    """(the most sweeps running at one time, sweeps started, sweeps ended) from the sweeps' log."""
    running = most = started = ended = 0
    for line in (tmp_path / "sweeps.log").read_text().splitlines():
        running += 1 if line.startswith("start") else -1
        started, ended = started + line.startswith("start"), ended + line.startswith("end")
        most = max(most, running)
    return most, started, ended


def no_sweeps_left(tmp_path):
    cli.wait_for(lambda: not children_of(tmp_path, (b"fake_sweep",)), 30, what="no sweep process")


def test_shares_split_the_jobs_and_gpus():
    assert side_by_side.shares(2, 24) == (2, 1, [[], []])
    assert side_by_side.shares(2, 1) == (1, 2, [[]])
    assert side_by_side.shares(8, 2, ["0", "1", "2", "3"]) == (2, 4, [["0", "2"], ["1", "3"]])
    assert side_by_side.shares(3, 10, ["0"]) == (3, 1, [["0"], ["0"], ["0"]])


def test_every_chain_runs_two_sweeps_at_once(tmp_path):
    """4 chains × 3 rates on 2 jobs: 12 sweeps, 2 at a time (never 3), every run of every one."""
    log = tmp_path / "driver.log"
    code, text = finish(start_driver(tmp_path, 2, log), log)
    assert code == 0, text
    assert all((run / "results.json").exists() for run in every_run(tmp_path)), text
    assert sweeps_at_once(tmp_path) == (2, 12, 12)
    assert text.count("sweep: 1 models × 3 seed(s) = 3 runs") == 12


def test_one_job_runs_one_sweep_at_a_time_in_the_driver(tmp_path):
    log = tmp_path / "driver.log"
    code, text = finish(start_driver(tmp_path, 1, log), log)
    assert code == 0, text
    assert all((run / "results.json").exists() for run in every_run(tmp_path))
    assert not (tmp_path / "sweeps.log").exists()  # the sweeps ran in the driver's process, not as children


@pytest.mark.parametrize("how", ["sigterm", "sigint"])
def test_a_stop_stops_every_sweep_and_the_same_command_finishes(tmp_path, how):
    """Both slots hold a sweep whose seed 0 trains until stopped; the stop reaches both; a second run finishes."""
    log = tmp_path / "driver.log"
    driver = start_driver(tmp_path, 2, log, trainers={f"{m} 0": "train" for m in MODELS})
    try:
        cli.wait_for(lambda: len(list(tmp_path.glob("*/n200/*/runs/*/seed0/train.log"))) == 2
                     or driver.poll() is not None, 120, what="two trainers training")
        driver.send_signal(signal.SIGTERM if how == "sigterm" else signal.SIGINT)
        code, text = finish(driver, log)
    finally:
        if driver.poll() is None:
            driver.kill()
    signum = signal.SIGTERM if how == "sigterm" else signal.SIGINT
    assert code == 128 + signum, text
    assert f"stopped by signal {int(signum)}" in text
    most, started, ended = sweeps_at_once(tmp_path)
    assert most == 2 and started == ended == 2  # no sweep started after the stop, both ended
    no_children_left(tmp_path)
    no_sweeps_left(tmp_path)
    code, text = finish(start_driver(tmp_path, 2, log), log)
    assert code == 0, text
    assert all((run / "results.json").exists() for run in every_run(tmp_path))


def test_a_sweep_killed_outright_stops_the_others(tmp_path):
    """SIGKILL to one sweep: the driver stops the other and returns 137; the killed sweep's trainer stops too."""
    log = tmp_path / "driver.log"
    driver = start_driver(tmp_path, 2, log, trainers={f"{m} 0": "train" for m in MODELS})
    try:
        cli.wait_for(lambda: len(children_of(tmp_path, (b"fake_sweep",))) == 2 and
                     len(list(tmp_path.glob("*/n200/*/runs/*/seed0/train.log"))) == 2
                     or driver.poll() is not None, 120, what="two sweeps training")
        os.kill(children_of(tmp_path, (b"fake_sweep",))[0], signal.SIGKILL)
        code, text = finish(driver, log)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert code == 128 + signal.SIGKILL, text
    no_children_left(tmp_path)  # the killed sweep's trainer too: it stops with its parent
    no_sweeps_left(tmp_path)


def test_a_driver_killed_outright_takes_its_sweeps_with_it(tmp_path):
    log = tmp_path / "driver.log"
    driver = start_driver(tmp_path, 2, log, trainers={f"{m} 0": "train" for m in MODELS})
    try:
        cli.wait_for(lambda: len(list(tmp_path.glob("*/n200/*/runs/*/seed0/train.log"))) == 2
                     or driver.poll() is not None, 120, what="two trainers training")
        driver.kill()
        driver.wait(timeout=30)
    finally:
        if driver.poll() is None:
            driver.kill()
    no_sweeps_left(tmp_path)
    no_children_left(tmp_path)


def test_an_error_in_a_chain_stops_the_other_sweeps_and_is_raised(tmp_path):
    """A chain that raises (the driver's own code) while another's sweep runs: that sweep gets SIGTERM, no
    chain starts after it, and the error reaches the caller; without the error, every chain runs."""
    started = tmp_path / "started"
    sleeper = (sys.executable, "-c", "import pathlib, sys, time; pathlib.Path(sys.argv[1]).touch(); time.sleep(60)",
               os.fspath(started))

    def sleeping(run_sweep):
        return run_sweep([])

    def failing(run_sweep):  # pylint: disable=unused-argument
        cli.wait_for(started.exists, 30, what="the other chain's sweep")
        raise ValueError("a bad protocol cell")

    later = []
    begin = time.monotonic()
    with pytest.raises(ValueError, match="a bad protocol cell"):
        side_by_side.run_chains([sleeping, failing, lambda run_sweep: later.append(1) or 0], 2, command=sleeper)
    assert time.monotonic() - begin < 30  # the sleeping sweep was stopped, not waited for
    assert later == []

    ran = []
    assert side_by_side.run_chains([lambda run_sweep, k=k: ran.append(k) or 0 for k in range(5)], 2) == 0
    assert sorted(ran) == list(range(5))
