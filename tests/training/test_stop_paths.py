"""Every way a sweep stops, with real processes and real signals: each leaves no training process behind.

Most tests run the real sweep with stand-in training processes
(`fake_sweep.py`, `fake_train.py`: a second each instead of TensorFlow's
ten); one sends SIGTERM to a sweep of real training runs in its last pass.
Each case has its variant where everything survives, and every wait a
timeout that turns a hang into a failure.
"""

import errno
import fcntl
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.training import cli
from tests.training.processes import WAIT, children_of, finish, no_children_left
from tests.training.test_sweep import TINY, start_sweep, trainings

from constrained_zoo.training import sample_efficiency, sweep
from constrained_zoo.training.run import signals
from constrained_zoo.training.sweeps import locks, scheduler

TWO = ("--dataset", "digits", "--models", "mlp_linear", "--seeds", 2, "--epochs", 1)


def start_fake(out, *args, log, trainers=None, **env):
    """Starts `fake_sweep.py` on `out`; `trainers`: {seed: behaviour} of mlp_linear's runs."""
    extra = {"FAKE_TRAINERS": json.dumps({f"mlp_linear {s}": b for s, b in (trainers or {}).items()}),
             **{k: str(v) for k, v in env.items()}}
    with open(log, "w", encoding="utf-8") as f:
        return subprocess.Popen([sys.executable, "-m", "tests.training.fake_sweep", "--out", os.fspath(out),
                                 *map(str, args)], cwd=cli.REPO, env={**cli.ENV, **extra}, stdout=f,
                                stderr=subprocess.STDOUT, text=True)


def wait_for_text(log, text, proc, timeout=WAIT):
    cli.wait_for(lambda: text in log.read_text() or proc.poll() is not None, timeout=timeout, what=repr(text))
    assert text in log.read_text(), log.read_text()


def hold_lock(path):
    """A process of its own holding an exclusive flock on `path` until killed."""
    code = ("import fcntl, sys, time\nf = open(sys.argv[1], 'a')\nfcntl.flock(f, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\ntime.sleep(600)\n")
    holder = subprocess.Popen([sys.executable, "-c", code, os.fspath(path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    return holder


# ------------------------------------------------------------ the last pass
@pytest.mark.parametrize("signalled", [True, False], ids=["sigterm", "survives"])
def test_a_stop_during_the_final_report_ends_the_sweep_143(tmp_path, signalled):
    """The final report waits for `.report.lock` (held by a stopped sweep, say): a SIGTERM then is acted on."""
    out, log = tmp_path / "out", tmp_path / "log"
    out.mkdir()
    holder = hold_lock(out / ".report.lock")
    try:
        proc = start_fake(out, *TWO, "--jobs", 2, log=log, FAKE_REPORT_WAIT=0.5, FAKE_LOCK_WAIT=WAIT)
        wait_for_text(log, "[2/2] mlp_linear seed 1: finished", proc)
        wait_for_text(log, "waiting for", proc)  # every run reaped: the last pass's report
        if signalled:
            proc.send_signal(signal.SIGTERM)
        else:
            holder.kill()
        code, output = finish(proc, log)
    finally:
        holder.kill()
        holder.wait()
    assert code == (143 if signalled else 0), output
    assert ("stopped after no run in progress; continue with:" in output) == signalled, output
    assert "Traceback" not in output
    no_children_left(out)


def test_a_sigterm_in_the_last_pass_of_real_runs_exits_143_with_no_child_left(tmp_path):
    out, log = tmp_path / "out", tmp_path / "log"
    out.mkdir()
    holder = hold_lock(out / ".report.lock")
    try:
        proc = start_sweep(out, *TINY, "--seeds", 1, log=log)
        wait_for_text(log, "finished; the tables wait for a later run", proc, timeout=cli.TIMEOUT)
        wait_for_text(log, "waiting for", proc)
        proc.send_signal(signal.SIGTERM)
        code, output = finish(proc, log, cli.TIMEOUT)
    finally:
        holder.kill()
        holder.wait()
    assert code == 143, output
    assert trainings(out) == {os.path.join("runs", "mlp_linear", "seed0"): 1}
    no_children_left(out)


def test_a_stop_while_a_sibling_trains_stops_and_reaps_it(tmp_path):
    """`--jobs 2`: run 0 finished and waits for the report lock, run 1 trains; SIGTERM stops both."""
    out, log = tmp_path / "out", tmp_path / "log"
    out.mkdir()
    holder = hold_lock(out / ".report.lock")
    try:
        proc = start_fake(out, *TWO, "--jobs", 2, log=log, trainers={1: "train"}, FAKE_REPORT_WAIT=WAIT)
        wait_for_text(log, "waiting for", proc)
        assert children_of(out), log.read_text()
        proc.send_signal(signal.SIGTERM)
        code, output = finish(proc, log)
    finally:
        holder.kill()
        holder.wait()
    assert code == 143, output
    assert "stopped after epoch 0 of mlp_linear seed 1" in output
    no_children_left(out, timeout=5)  # reaped before the sweep ended


# ------------------------------------------------------------ other exceptions, other signals
@pytest.mark.parametrize("fault", ["report-enospc", "popen-fails", "none"])
def test_an_exception_in_the_loop_stops_the_children_first(tmp_path, fault):
    out, log = tmp_path / "out", tmp_path / "log"
    trainers = {0: "train", 1: "missing" if fault == "popen-fails" else "finish"}
    if fault == "none":
        trainers = {0: "finish", 1: "finish"}
    env = {"FAKE_REPORT": "enospc"} if fault == "report-enospc" else {}
    proc = start_fake(out, *TWO, "--jobs", 2, log=log, trainers=trainers, **env)
    code, output = finish(proc, log)
    if fault == "none":
        assert code == 0, output
    else:
        assert code == 1, output
        assert ("No space left on device" if fault == "report-enospc" else "FileNotFoundError") in output
        assert "fake trainer" not in output  # the trainer's own output went to its log
    no_children_left(out, timeout=5)


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGQUIT, signal.SIGINT])
def test_sighup_and_sigquit_stop_a_sweep_like_sigterm(tmp_path, signum):
    out, log = tmp_path / "out", tmp_path / "log"
    proc = start_fake(out, *TWO, "--jobs", 2, log=log, trainers={0: "train", 1: "train"})
    cli.wait_for(lambda: len(children_of(out)) == 2 or proc.poll() is not None, timeout=WAIT, what="two trainers")
    proc.send_signal(signum)
    code, output = finish(proc, log)
    assert code == 128 + signum, output
    assert output.count("stopped after epoch 0 of mlp_linear") == 1 and "Traceback" not in output
    no_children_left(out, timeout=5)


def test_a_killed_sweeps_training_processes_stop(tmp_path):
    """SIGKILL (what a scheduler escalates to) cannot be handled: the children stop as their parent dies."""
    out, log = tmp_path / "out", tmp_path / "log"
    proc = start_fake(out, *TWO, "--jobs", 2, log=log, trainers={0: "train", 1: "train"})
    cli.wait_for(lambda: len(children_of(out)) == 2 or proc.poll() is not None, timeout=WAIT, what="two trainers")
    proc.kill()
    finish(proc, log)
    no_children_left(out)
    for seed in (0, 1):
        assert "stopped by 15" in (out / "runs" / "mlp_linear" / f"seed{seed}" / "train.log").read_text()


def test_a_trainer_deaf_to_sigterm_is_killed_after_the_grace(tmp_path):
    out, log = tmp_path / "out", tmp_path / "log"
    proc = start_fake(out, *TWO, "--jobs", 2, log=log, trainers={0: "deaf", 1: "train"}, FAKE_GRACE=1)
    cli.wait_for(lambda: len(children_of(out)) == 2 or proc.poll() is not None, timeout=WAIT, what="two trainers")
    proc.send_signal(signal.SIGTERM)
    code, output = finish(proc, log)
    assert code == 143, output
    assert "[1/2] mlp_linear seed 0: still running 1 s after the stop signal; killed" in output
    no_children_left(out, timeout=5)


@pytest.mark.parametrize("behaviour", ["silent", "train"])
def test_a_trainer_without_progress_is_reported(tmp_path, behaviour):
    out, log = tmp_path / "out", tmp_path / "log"
    proc = start_fake(out, *TWO, "--seeds", 1, "--stall-minutes", 0.02, log=log, trainers={0: behaviour})
    cli.wait_for(lambda: children_of(out) or proc.poll() is not None, timeout=WAIT, what="a trainer")
    time.sleep(3)  # more than 0.02 minutes
    proc.send_signal(signal.SIGTERM)
    code, output = finish(proc, log)
    assert code == 143, output
    assert ("[1/1] mlp_linear seed 0: no progress for 1 s" in output) == (behaviour == "silent"), output
    no_children_left(out, timeout=5)


# ------------------------------------------------------------ locks
@pytest.mark.parametrize("name", ["ENOSYS", "ENOLCK", "EBADF"])
def test_a_file_system_without_locks_gets_one_clear_message(tmp_path, name):
    out, log = tmp_path / "out", tmp_path / "log"
    code, output = finish(start_fake(out, *TWO, log=log, FAKE_FLOCK_ERRNO=name), log)
    assert code == 2, output
    assert output.count("does not support flock locks") == 1 and "Traceback" not in output
    assert f"(errno {name})" in output and not (out / "runs").exists()
    # One process per shard needs no lock: a shard trains where locks are missing.
    log = tmp_path / "shard.log"
    code, output = finish(start_fake(out, *TWO, "--shard", "0/2", log=log, FAKE_FLOCK_ERRNO=name), log)
    assert code == 0, output
    assert (out / "runs" / "mlp_linear" / "seed0" / "results.json").exists()


def test_a_stopped_sweep_holding_the_report_lock_delays_the_others_but_never_stops_them(tmp_path):
    """A sweep stopped (SIGSTOP, as Ctrl-Z) while it holds `.report.lock`: another trains its runs all the same."""
    out, log = tmp_path / "out", tmp_path / "log"
    out.mkdir()
    holder = hold_lock(out / ".report.lock")
    holder.send_signal(signal.SIGSTOP)
    try:
        proc = start_fake(out, *TWO, log=log, FAKE_REPORT_WAIT=0.5, FAKE_LOCK_WAIT=2)
        code, output = finish(proc, log)
    finally:
        holder.kill()
        holder.wait()
    assert code == 1, output
    assert output.count("the tables wait for a later run") == 2
    assert "error: the tables were not rewritten:" in output and "stayed locked by another process for 2 s" in output
    assert all((out / "runs" / "mlp_linear" / f"seed{s}" / "results.json").exists() for s in (0, 1))


def test_a_lock_wait_is_bounded_and_interruptible(tmp_path):
    path = tmp_path / ".report.lock"
    holder = hold_lock(path)
    try:
        start = time.monotonic()
        with pytest.raises(locks.LockTimeout, match="stayed locked by another process for 0.5 s"):
            with locks.flocked(path, timeout=0.5):
                pass
        assert time.monotonic() - start < 5
        with signals.stop_on_signals():
            os.kill(os.getpid(), signal.SIGTERM)
            with pytest.raises(signals.StopRequested):
                with locks.flocked(path, timeout=60):
                    pass
    finally:
        holder.kill()
        holder.wait()
    with locks.flocked(path, timeout=1):  # free again
        pass


def test_lock_errors_other_than_busy_name_the_file_systems_lock_support(tmp_path, monkeypatch):
    def refuse(*args):
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(fcntl, "flock", refuse)
    with pytest.raises(locks.LockUnsupported, match=r"No locks available \(errno ENOLCK\). This file system does "
                                                    r"not support flock locks"):
        locks.try_lock(tmp_path / "x.lock")


# ------------------------------------------------------------ signals in one process, and drivers
def test_a_stop_after_the_last_check_ends_the_block_with_stop_requested():
    with pytest.raises(signals.StopRequested) as stop:
        with signals.stop_on_signals():
            os.kill(os.getpid(), signal.SIGHUP)
    assert stop.value.exit_status == 129
    with signals.stop_on_signals():  # acted on: the block ends as it was
        os.kill(os.getpid(), signal.SIGTERM)
        with pytest.raises(signals.StopRequested):
            signals.raise_if_stopped()
    with pytest.raises(signals.StopRequested):  # nested: the inner block keeps the outer's record
        with signals.stop_on_signals():
            os.kill(os.getpid(), signal.SIGTERM)
            with signals.stop_on_signals():
                assert signals.requested() == signal.SIGTERM
            assert signals.requested() == signal.SIGTERM
    assert signals.requested() is None  # the stop belonged to its block: nothing after it is stopped
    signals.raise_if_stopped()


def _lost_stop_sweeps(monkeypatch, tmp_path):
    """Sweeps whose last pass receives a SIGTERM (as the report ends); returns the list of sweeps started."""
    started = []

    def last_pass_signalled(self):
        started.append(self.out)
        os.kill(os.getpid(), signal.SIGTERM)  # after the loop's last check: the lost stop

    monkeypatch.setattr(scheduler.Sweep, "_passes", last_pass_signalled)
    monkeypatch.setattr(sweep, "write_report", lambda *args, **kwargs: [])
    monkeypatch.setattr(sweep, "check", lambda values: None)
    return started


def test_a_driver_looping_over_sweeps_stops_on_the_first_stop(tmp_path, monkeypatch):
    started = _lost_stop_sweeps(monkeypatch, tmp_path)
    code = sample_efficiency.main(["--dataset", "digits", "--models", "mlp_linear", "--sizes", "100,200",
                                   "--steps", 10, "--rates", "0.001,0.01", "--seeds", 1, "--out", tmp_path / "study"])
    assert code == 143 and len(started) == 1


def test_the_demo_stops_on_the_first_stop(tmp_path, monkeypatch):
    from constrained_zoo.training import demo

    started = _lost_stop_sweeps(monkeypatch, tmp_path)
    monkeypatch.setattr(demo, "short_run_rows", lambda out: ([{"model": "x"}], "validation"))
    monkeypatch.setattr(demo, "report_short_run", lambda *args: pytest.fail("the demo went on after a stop"))
    code = demo.main(["--out", tmp_path / "demo", "--published", "none"])
    assert code == 143 and len(started) == 1


# ------------------------------------------------------------ publishing on NFS
def _saver(content):
    def save(path):
        with open(path, "w", encoding="utf-8") as f:
            f.write(content)
    return save


def test_publishing_takes_no_lock_on_a_read_only_directory_descriptor(tmp_path, monkeypatch):
    """NFS emulates flock with a write lock: on a directory's read-only descriptor it fails with EBADF."""
    import stat

    from constrained_zoo.training.publishing import install

    real = fcntl.flock

    def nfs_flock(fd, operation):
        if stat.S_ISDIR(os.fstat(fd if isinstance(fd, int) else fd.fileno()).st_mode):
            raise OSError(errno.EBADF, os.strerror(errno.EBADF))
        return real(fd, operation)

    monkeypatch.setattr(fcntl, "flock", nfs_flock)
    entry = install.install(str(tmp_path), {"model": "cnn_tiny", "dataset": "digits"}, _saver("weights"))
    assert sorted(os.listdir(tmp_path)) == ["digits", "manifest.json"]  # the lock file went with the lock
    assert os.listdir(tmp_path / "digits") == [os.path.basename(entry["file"])]


PUBLISHER = ("import sys\nfrom constrained_zoo.training.publishing import install\n"
             "def save(path):\n    open(path, 'w').write(sys.argv[2])\n"
             "for i in range(5):\n"
             "    install.install(sys.argv[1], {'model': 'm' + sys.argv[2], 'dataset': 'digits'}, save)\n")


def test_publishers_in_two_processes_keep_both_entries(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", PUBLISHER, os.fspath(tmp_path), name], cwd=cli.REPO,
                              env=cli.ENV) for name in ("a", "b")]
    for proc in procs:
        assert proc.wait(timeout=WAIT) == 0
    from constrained_zoo.models import weights

    assert sorted(e["model"] for e in weights.read_manifest(str(tmp_path))["weights"]) == ["ma", "mb"]
    assert sorted(os.listdir(tmp_path)) == ["digits", "manifest.json"]


# ------------------------------------------------------------ shared folders
MOUNTINFO = """\
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
40 27 0:50 / /shared rw,relatime - nfs4 server:/export rw,vers=4.2
41 40 0:51 / /shared/scratch rw,relatime - lustre 10.0.0.1@tcp:/fs rw,flock
42 27 0:52 / /home/me/remote rw - fuse.sshfs me@host: rw
43 27 0:53 / /overlay rw - fuse.fuse-overlayfs fuse-overlayfs rw
"""


def test_the_file_system_of_a_folder_is_its_longest_mount_points(tmp_path):
    (tmp_path / "mountinfo").write_text(MOUNTINFO)
    info = os.fspath(tmp_path / "mountinfo")
    assert locks.mount_of("/shared/scratch/results", info) == ("/shared/scratch", "lustre")
    assert locks.network_file_system("/shared/results", info) == "nfs4"
    assert locks.network_file_system("/shared/scratch/x", info) == "lustre"
    assert locks.network_file_system("/home/me/remote/x", info) == "fuse.sshfs"
    assert locks.network_file_system("/overlay/x", info) is None  # a local FUSE file system
    assert locks.network_file_system("/sharedother", info) is None


def test_the_probe_finds_locks_that_exclude_another_process_and_locks_that_do_not(tmp_path, monkeypatch):
    assert locks.probe(tmp_path)
    monkeypatch.setattr(fcntl, "flock", lambda *args: None)  # a file system that ignores flock, in this process
    assert not locks.probe(tmp_path)


def _parsed_until_training(monkeypatch):
    monkeypatch.setattr(sweep, "sweep", lambda *args: 0)  # everything before the first run, nothing after


@pytest.mark.parametrize("extra, refused", [((), True), (("--trust-folder-locks",), False),
                                            (("--shard", "0/2"), False), (("--executor", "ray"), False)])
def test_a_folder_on_a_network_file_system_is_shared_only_on_trust(tmp_path, monkeypatch, capsys, extra, refused):
    _parsed_until_training(monkeypatch)
    monkeypatch.setattr(locks, "network_file_system", lambda path: "nfs4")
    code = sweep.main(["--dataset", "digits", "--models", "mlp_linear", "--out", tmp_path / "out", *extra])
    assert code == (2 if refused else 0)
    err = capsys.readouterr().err
    assert ("is on nfs4, a file system shared between machines, where flock may lock on one machine only" in err) \
        == refused
    assert (tmp_path / "out" / "recipe.json").exists() != refused


def test_a_folder_whose_locks_exclude_nothing_is_refused(tmp_path, monkeypatch, capsys):
    _parsed_until_training(monkeypatch)
    monkeypatch.setattr(fcntl, "flock", lambda *args: None)
    assert sweep.main(["--dataset", "digits", "--models", "mlp_linear", "--out", tmp_path]) == 2
    assert "did not exclude another process: this file system ignores flock" in capsys.readouterr().err
