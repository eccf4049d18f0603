"""Ctrl-C during training: finish the step, save the state, say how to go on.

While training runs, SIGINT (Ctrl-C) and SIGTERM (what schedulers and ``torchrun`` send
before they kill) only raise a flag; the loop reads it after each step, when model,
optimizer, queue and noise generator agree with one another, saves a checkpoint there
and raises :class:`TrainingInterrupted`. A second Ctrl-C stops at once, without saving.
"""

import signal
import threading
from pathlib import Path

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class TrainingInterrupted(Exception):
    """Training stopped on a signal after saving its state at ``step``."""

    def __init__(self, run_dir: Path, epoch: int, epochs: int, step: int, signum: int):
        super().__init__(f"{run_dir}: stopped in epoch {epoch + 1}/{epochs} at step {step}")
        self.run_dir, self.epoch, self.epochs, self.step = run_dir, epoch, epochs, step
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """The shell's code for a process ended by the signal: 130 for Ctrl-C."""
        return 128 + self.signum


class StopRequests:
    """A context in which the stop signals set :attr:`signum` instead of raising."""

    def __init__(self) -> None:
        self.signum = 0
        self._previous: dict[int, object] = {}

    def __enter__(self) -> "StopRequests":
        if threading.current_thread() is threading.main_thread():  # else signals can't reach us
            self._previous = {sig: signal.signal(sig, self._handle) for sig in STOP_SIGNALS}
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}

    def _handle(self, signum: int, frame) -> None:
        if self.signum:  # asked twice: stop now
            raise KeyboardInterrupt
        self.signum = signum
