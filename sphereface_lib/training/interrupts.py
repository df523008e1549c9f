"""Stopping a training run cleanly on Ctrl-C (SIGINT) or SIGTERM.

While :class:`StopSignals` is active, these signals only *request* a stop. The training loop
honours the request at the next step boundary, where its state is consistent (never half-way
through an optimizer update), saves a checkpoint, and raises :class:`TrainingInterrupted`,
whose message says how to resume. The resumed run ends bit-identical to an uninterrupted one.

In a Jupyter kernel, interrupting the kernel sends SIGINT too: the cell ends with
:class:`TrainingInterrupted` (a ``KeyboardInterrupt``) after the checkpoint is saved, and the
kernel lives on. :func:`stop_all_runs` asks the same of every run of a process without a signal
(the worker processes of :func:`sphereface_lib.book.experiments.run_all` use it).
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from sphereface_lib.training.distributed import Distributed

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)

_stop_all = threading.Event()


class TrainingInterrupted(KeyboardInterrupt):
    """A run stopped on request; the message says what was saved and how to resume."""

    def __init__(self, message: str, signal_number: int = signal.SIGINT) -> None:
        super().__init__(message)
        self.signal_number = int(signal_number)

    def __reduce__(self) -> tuple[Any, ...]:  # pickled from a worker process to its parent
        return (type(self), (str(self), self.signal_number))

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process ended by this signal: 130 (SIGINT), 143."""
        return 128 + self.signal_number


def signal_name(number: int) -> str:
    return signal.Signals(number).name


def stop_all_runs() -> None:
    """Make every run in this process stop at its next step boundary, and none start."""
    _stop_all.set()


def stopping_all_runs() -> bool:
    return _stop_all.is_set()


class StopSignals:
    """A context in which SIGINT and SIGTERM set :attr:`requested` instead of interrupting.

    Handlers can only be installed in the main thread; elsewhere the signals keep their
    handlers (Python delivers them to the main thread anyway). The previous handlers come back
    on exit.
    """

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, number: int, frame: FrameType | None) -> None:
        # Nothing else here: printing from a signal handler can collide with the progress bar.
        self.received = number

    @property
    def requested(self) -> int | None:
        """The signal that asked for a stop (SIGINT for :func:`stop_all_runs`), or None."""
        if self.received is not None:
            return self.received
        return signal.SIGINT if _stop_all.is_set() else None

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for number in HANDLED_SIGNALS:
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for number, previous in self._previous.items():
            signal.signal(number, previous if previous is not None else signal.SIG_DFL)
        self._previous = {}


def interrupted_message(
    number: int,
    where: str,
    checkpoint: Path | None,
    saved_step: int,
    saved_now: bool,
) -> str:
    """The one line that says where a run stopped (``where``: "step 3/9 (angular ...)"), what
    is on disk (the checkpoint of ``saved_step``, 0: none) and how to resume."""
    where = f"{signal_name(number)} at {where}"
    if checkpoint is None:
        return f"interrupted by {where}; no output folder, so nothing was saved"
    if saved_now:
        return (
            f"interrupted by {where}; checkpoint saved to {checkpoint}. Run the same command (or "
            "call) again to resume."
        )
    if saved_step == 0:
        return f"interrupted by {where}; nothing was saved. Run it again to start afresh."
    return (
        f"interrupted by {where}; the checkpoint of step {saved_step} in {checkpoint} is kept. "
        "Run the same command (or call) again to resume."
    )


def agreed_stop(requested: int | None, context: Distributed) -> int | None:
    """The signal that asks a run to stop, the same on every rank (a collective): when one rank
    was asked, all stop."""
    if not context.enabled:
        return requested
    anyone = context.sum([1.0 if requested is not None else 0.0])[0] > 0
    return (requested or signal.SIGINT) if anyone else None
