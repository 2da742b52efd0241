"""Concurrency and signals, with real processes: what survives and what is killed.

Every wait has a timeout, so a deadlock fails the test instead of hanging
the suite. The default run has the reported deadlock (two sweeps on the
same runs) and a SIGTERM just after a run starts; `make test-slow` adds
three sweeps with `--jobs` and a shard, and SIGTERMs while the sweep starts
and mid-epoch. Sweeps train `mlp_linear` on 8×8 digits for one epoch (a run is
~10 s of CPU, mostly TensorFlow starting).
"""

import os
import signal
import threading
import time

import pytest

from tests.training import cli
from tests.training.processes import children_of, wait_all
from tests.training.test_sweep import TINY, start_sweep, table, trainings
from constrained_zoo import atomic
from constrained_zoo.training.run import signals

pytestmark = pytest.mark.tensorflow_only


@pytest.fixture(scope="module")
def serial_tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    proc = start_sweep(out, *TINY, log=out / "log")
    wait_all([proc])
    assert proc.returncode == 0, (out / "log").read_text()
    return table(out)


@pytest.mark.parametrize("argvs", [
    pytest.param([TINY, TINY], id="two-sweeps-same-runs"),
    pytest.param([(*TINY, "--jobs", "2"), TINY, (*TINY, "--shard", "1/2")], id="three-with-jobs-and-a-shard",
                 marks=pytest.mark.slow),
])
def test_surviving_sweeps_on_one_folder_all_finish_training_each_run_once(tmp_path, argvs, serial_tiny):
    out = tmp_path / "out"
    procs = [start_sweep(out, *argv, log=tmp_path / f"sweep{i}.log") for i, argv in enumerate(argvs)]
    wait_all(procs)
    for i, proc in enumerate(procs):
        assert proc.returncode == 0, (tmp_path / f"sweep{i}.log").read_text()
    assert trainings(out) == {os.path.join("runs", "mlp_linear", f"seed{s}"): 1 for s in range(2)}
    assert table(out) == serial_tiny
    assert not children_of(out)


def test_of_two_sweeps_with_different_recipes_exactly_one_proceeds(tmp_path):
    out = tmp_path / "out"
    one = ("--dataset", "digits", "--models", "mlp_linear", "--seeds", "1", "--epochs", "1")
    other = ("--dataset", "digits", "--models", "mlp_linear", "--seeds", "1", "--epochs", "2", "--flip")
    procs = [start_sweep(out, *argv, log=tmp_path / f"sweep{i}.log") for i, argv in enumerate((one, other))]
    wait_all(procs)
    codes = sorted(proc.returncode for proc in procs)
    logs = [(tmp_path / f"sweep{i}.log").read_text() for i in range(2)]
    assert codes == [0, 2], logs
    refused = logs[[proc.returncode for proc in procs].index(2)]
    assert "holds runs of another recipe; these settings differ: epochs: " in refused
    assert "flip: " in refused
    assert len(trainings(out)) == 1


@pytest.mark.parametrize("moment", [pytest.param("starting", marks=pytest.mark.slow), "just-launched",
                                    pytest.param("mid-epoch", marks=pytest.mark.slow)])
def test_sigterm_to_a_sweep_at_any_moment_leaves_no_training_process(tmp_path, moment):
    out = tmp_path / "out"
    log = tmp_path / "sweep.log"
    proc = start_sweep(out, "--dataset", "digits", "--models", "mlp_small,mlp_linear", "--epochs", "30",
                       "--batch-size", "16", log=log)
    try:
        if moment == "starting":
            time.sleep(0.5)
        else:
            cli.wait_for(lambda: "training" in log.read_text() or proc.poll() is not None, timeout=cli.TIMEOUT,
                         what="a run to start")
            if moment == "mid-epoch":
                cli.wait_for(lambda: children_of(out) or proc.poll() is not None, timeout=cli.TIMEOUT,
                             what="the training process")
                time.sleep(3)
        proc.send_signal(signal.SIGTERM)
        wait_all([proc])
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode in (143, -signal.SIGTERM), log.read_text()
    assert "Traceback" not in log.read_text()
    assert not children_of(out), f"training processes left running: {children_of(out)}"


# ------------------------------------------------------------ the directory swap
def _swap_with_a_signal(tmp_path, monkeypatch, signum):
    """Replaces a directory while a thread runs, sending `signum` to the process between the two renames."""
    target = tmp_path / "saved_model"
    target.mkdir()
    (target / "version").write_text("old")
    replace, calls = os.replace, []

    def replace_then_signal(src, dst):
        replace(src, dst)
        calls.append(dst)
        if len(calls) == 1:  # the old copy is aside, the new one not yet in place
            os.kill(os.getpid(), signum)
            time.sleep(0.2)  # time for the handler to run, were it allowed to

    stop = threading.Event()
    worker = threading.Thread(target=lambda: stop.wait(30), daemon=True)  # a live thread, as TensorFlow's
    worker.start()
    monkeypatch.setattr(atomic.os, "replace", replace_then_signal)
    try:
        with atomic.atomic_path(target) as tmp:
            os.makedirs(tmp)
            with open(os.path.join(tmp, "version"), "w", encoding="utf-8") as f:
                f.write("new")
    finally:
        monkeypatch.setattr(atomic.os, "replace", replace)
        stop.set()
        worker.join()
    return target, calls


class Interrupted(Exception):
    pass


def test_a_signal_during_a_directory_swap_waits_for_its_end(tmp_path, monkeypatch):
    """A handler that raises (as Python's default KeyboardInterrupt does) runs after both renames, never between."""
    def interrupt(signum, frame):
        raise Interrupted(signum)

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        with pytest.raises(Interrupted):
            _swap_with_a_signal(tmp_path, monkeypatch, signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert (tmp_path / "saved_model" / "version").read_text() == "new"
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".")]  # nothing set aside is left


def test_inside_a_command_a_signal_during_a_swap_is_only_recorded(tmp_path, monkeypatch):
    with signals.stop_on_signals():
        target, calls = _swap_with_a_signal(tmp_path, monkeypatch, signal.SIGTERM)
        assert signals.requested() == signal.SIGTERM
        with pytest.raises(signals.StopRequested):
            signals.raise_if_stopped()
    assert len(calls) == 2 and (target / "version").read_text() == "new"
    with signals.stop_on_signals():  # an outermost block starts afresh: no recorded stop is left to later tests
        assert signals.requested() is None


def test_a_kill_between_the_renames_of_a_swap_with_a_suffix_keeps_the_complete_copy(tmp_path):
    """What a SIGKILL between the two renames leaves, for a path swapped with a suffix: the old copy comes back."""
    target = tmp_path / "model.keras"
    target.mkdir()
    (target / "weights").write_text("old")
    tmp, aside = atomic._temporary_names(str(target), ".keras")  # pylint: disable=protected-access
    os.makedirs(tmp)
    os.replace(target, aside)  # the first rename, then the kill
    assert atomic.remove_leftovers(tmp_path) == [f"{os.path.basename(aside)} -> model.keras", os.path.basename(tmp)]
    assert (target / "weights").read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["model.keras"]


# ------------------------------------------------------------ publishing
def _valid_pairs(root):
    """Every manifest entry's file exists with the manifest's sha256: `{model: file}`."""
    from constrained_zoo.models import weights

    found = {}
    for entry in weights.read_manifest(str(root))["weights"]:
        path = os.path.join(root, entry["file"])
        assert os.path.isfile(path) and weights.sha256_of(path) == entry["sha256"], entry
        found[entry["model"]] = entry["file"]
    return found


class Killed(BaseException):
    pass


def test_a_publish_killed_at_any_step_leaves_a_valid_old_or_new_pair(tmp_path, monkeypatch):
    from constrained_zoo.training.publishing import install

    def saver(content):
        def save(path):
            with open(path, "w", encoding="utf-8") as f:
                f.write(content)
        return save

    entry = {"model": "cnn_tiny", "dataset": "digits"}
    old = _valid_pairs(tmp_path) or install.install(str(tmp_path), entry, saver("old weights"))["file"]
    replace, calls = os.replace, []
    monkeypatch.setattr(os, "replace", lambda src, dst: (calls.append(dst), replace(src, dst)))
    install.install(str(tmp_path), entry, saver("counting"))
    steps = len(calls)  # the renames one publish makes
    assert steps >= 2
    new_files = set()
    for kill_at in range(steps):
        monkeypatch.setattr(os, "replace", replace)
        before = _valid_pairs(tmp_path)["cnn_tiny"]
        count = []

        def replace_or_die(src, dst, kill_at=kill_at, count=count):
            if len(count) == kill_at:
                raise Killed()
            count.append(dst)
            return replace(src, dst)

        monkeypatch.setattr(os, "replace", replace_or_die)
        with pytest.raises(Killed):
            install.install(str(tmp_path), entry, saver(f"new weights {kill_at}"))
        monkeypatch.setattr(os, "replace", replace)
        after = _valid_pairs(tmp_path)["cnn_tiny"]  # valid whatever the step
        assert after == before or after not in new_files | {old}
        new_files.add(after)
    final = install.install(str(tmp_path), entry, saver("final weights"))
    assert _valid_pairs(tmp_path) == {"cnn_tiny": final["file"]}
    # Files no entry names (an old pair's, a killed publish's) are gone after a publish.
    assert sorted(os.listdir(tmp_path / "digits")) == [os.path.basename(final["file"])]
