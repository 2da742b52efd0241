"""Stopping on SIGINT and SIGTERM at safe points only.

Python runs a signal handler in the main thread between any two bytecodes,
whichever thread the signal was delivered to (TensorFlow always has other
threads). A handler that raises can therefore cut anything in two: the two
renames of a directory swap, a `Popen` and the line that records its child.
Here handlers only record the signal; the code acts on it where it is safe:

- `stop_on_signals()`: for the block, SIGINT (Ctrl-C) and SIGTERM (what
  schedulers send) are recorded; `raise_if_stopped()` raises `StopRequested` if one
  came, `requested()` says which. The training loop checks after every
  batch and epoch (`fit.StopCallback`), a sweep in its scheduling loop.
- `deferred()`: a block no signal may split (the renames of `atomic.py`).
  A signal that arrives meanwhile reaches the previous handler when the
  block ends, whatever that handler does (record, or raise
  `KeyboardInterrupt` in a program that installed none).
"""

import contextlib
import signal
import threading

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_requested = []  # the signals received inside stop_on_signals, in order


class StopRequested(BaseException):
    """SIGINT or SIGTERM came: the process should stop and say how to continue.

    A `BaseException`, like `KeyboardInterrupt`, so that `except Exception`
    blocks let it through.

    Attributes:
        signum: the signal's number.
        exit_status: what a shell reports for a process the signal ended
            (128 + signum: 130 for SIGINT, 143 for SIGTERM).
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
        raise StopRequested(_requested[0])


def _main_thread():
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def stop_on_signals():
    """In the block, SIGINT and SIGTERM are recorded for `raise_if_stopped()` and `requested()`.

    Outside the main thread (where Python cannot set handlers) it does
    nothing. The previous handlers come back at the end.

    Example:

    >>> with stop_on_signals():
    ...     for batch in batches:
    ...         train_on(batch)
    ...         raise_if_stopped()  # raises StopRequested after Ctrl-C, between two batches
    """
    if not _main_thread():
        yield
        return
    del _requested[:]
    previous = {signum: signal.signal(signum, _record) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


@contextlib.contextmanager
def deferred():
    """A block no SIGINT or SIGTERM interrupts; one that came is delivered at its end.

    Inside `stop_on_signals` there is nothing to defer (its handlers only
    record). Elsewhere, in the main thread, the handlers are swapped for
    recorders during the block and the signal is raised again after it.
    In another thread no handler can raise here, so nothing is needed.
    """
    if not _main_thread() or all(signal.getsignal(s) is _record for s in STOP_SIGNALS):
        yield
        return
    caught = []
    previous = {signum: signal.signal(signum, lambda signum, frame: caught.append(signum)) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
        for signum in dict.fromkeys(caught):
            signal.raise_signal(signum)
