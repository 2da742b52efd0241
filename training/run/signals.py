"""Stopping on SIGINT, SIGTERM, SIGHUP and SIGQUIT at safe points only.

Python runs a signal handler in the main thread between any two bytecodes,
whichever thread the signal was delivered to (TensorFlow always has other
threads). A handler that raises can therefore cut anything in two: the two
renames of a directory swap, a `Popen` and the line that records its child.
Here handlers only record the signal; the code acts on it where it is safe:

- `stop_on_signals()`: for the block, SIGINT (Ctrl-C), SIGTERM (what
  schedulers send), SIGHUP (a closed terminal or ssh connection) and SIGQUIT
  are recorded; `raise_if_stopped()` raises `StopRequested` if one came, `requested()`
  says which. The training loop checks after every batch and epoch
  (`stop_callback`), a sweep in its scheduling loop. No stop is lost: a
  block that ends normally with a stop recorded that no `raise_if_stopped()` acted on
  raises `StopRequested` as it ends. Blocks nest: an inner block (a sweep
  inside a driver's loop of sweeps) keeps what the outer one recorded.

The two renames of a directory swap are shielded from these signals by
`constrained_zoo.atomic` itself: a signal that arrives between them reaches
these handlers (or Python's default) when both are done.
"""

import contextlib
import ctypes
import os
import signal
import sys
import threading

from constrained_zoo.atomic import STOP_SIGNALS  # what stops a run is what a directory swap is shielded from

#: A child whose environment holds its parent's pid here is sent SIGTERM when that parent dies (`stop_with_parent`).
PARENT_ENV = "CONSTRAINED_ZOO_STOP_WITH_PARENT"
_requested = []  # the signals received inside stop_on_signals, in order
_acted = []  # non-empty once raise_if_stopped() raised for the recorded stop


class StopRequested(BaseException):
    """A stop signal came: the process should stop and say how to continue.

    A `BaseException`, like `KeyboardInterrupt`, so that `except Exception`
    blocks let it through.

    Attributes:
        signum: the signal's number.
        exit_status: what a shell reports for a process the signal ended
            (128 + signum: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP,
            131 for SIGQUIT).
    """

    def __init__(self, signum):
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum
        self.exit_status = 128 + signum


def _record(signum, frame):  # pylint: disable=unused-argument
    _requested.append(signum)


def requested():
    """The first stop signal received in `stop_on_signals`, or None."""
    return _requested[0] if _requested else None


def raise_if_stopped():
    """A safe point: raises `StopRequested` if a stop signal came."""
    if _requested:
        _acted.append(True)
        raise StopRequested(_requested[0])


def _main_thread():
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def stop_on_signals():
    """In the block, the stop signals are recorded for `raise_if_stopped()` and `requested()`.

    Outside the main thread (where Python cannot set handlers) it does
    nothing. The previous handlers come back at the end of the outermost
    block, which raises `StopRequested` if a stop came that no `raise_if_stopped()`
    acted on (one that landed after the block's last check).

    Example:

    >>> with stop_on_signals():
    ...     for batch in batches:
    ...         train_on(batch)
    ...         raise_if_stopped()  # raises StopRequested after Ctrl-C, between two batches
    """
    if not _main_thread() or all(signal.getsignal(s) is _record for s in STOP_SIGNALS):
        yield  # another thread, or inside a block already: the outer block records and restores
        return
    del _requested[:], _acted[:]
    previous = {signum: signal.signal(signum, _record) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
        unacted = _requested[0] if _requested and not _acted else None
        del _requested[:], _acted[:]  # a stop belongs to its block: nothing after it sees a stale one
    if unacted is not None:
        raise StopRequested(unacted)


def stop_with_parent(environ=None):
    """Asks for SIGTERM when the parent that `PARENT_ENV` names dies (Linux); a stop at once if it is gone.

    A sweep starts each training process in its own process group (a Ctrl-C
    reaches the sweep only), so nothing else ends a trainer whose sweep was
    SIGKILLed. Call it inside `stop_on_signals`: the SIGTERM is then a stop
    like any other, after the current batch.
    """
    environ = os.environ if environ is None else environ
    parent = environ.get(PARENT_ENV, "")
    if not parent.isdigit() or not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != int(parent):  # the parent died before the request
        os.kill(os.getpid(), signal.SIGTERM)


def stop_callback(checkpoint=None):
    """A Keras callback that checks for a stop request after every batch and epoch; put it last.

    With a `checkpoint` (`checkpoints.AtomicCheckpoint`) that has put off
    saving completed epochs (--checkpoint-seconds), a request is acted on at
    the end of the epoch in progress, after the checkpoint has saved it, so
    that the stop loses nothing; otherwise after the next batch.
    """
    import keras  # pylint: disable=import-outside-toplevel

    def mid_epoch():
        if checkpoint is None or not checkpoint.unsaved:
            raise_if_stopped()

    class StopCallback(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            mid_epoch()

        def on_test_batch_end(self, batch, logs=None):
            mid_epoch()

        def on_epoch_end(self, epoch, logs=None):
            if checkpoint is not None and requested():
                checkpoint.save_put_off()  # the request may have come after the checkpoint put this epoch off
            raise_if_stopped()

    return StopCallback()
