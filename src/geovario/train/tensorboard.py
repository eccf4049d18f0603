"""TensorBoard's view of a run: the records of ``metrics.jsonl`` as curves, and the variogram.

``metrics.jsonl`` stays the record; :class:`TensorBoardLog` only draws the records
:class:`~geovario.train.runlog.RunLog` writes, under ``RUN_DIR/tensorboard/``. The
``tensorboard`` package is optional: without it a run trains as before, after a one-line
hint.
"""

import functools
import json
import sys
from pathlib import Path

from geovario.errors import GeovarioError
from geovario.rundir import TENSORBOARD_NAME

#: Keys that place a record (step, epoch) or say what it is, not numbers to draw.
_POSITION_KEYS = ("step", "epoch", "kind")


def tensorboard_wanted(enabled: bool | None) -> bool:
    """Whether to write TensorBoard logs; ``enabled=None`` means when the package is installed.

    Raises:
        GeovarioError: "train: TensorBoard logs need the tensorboard package ..." when they
            are asked for (``enabled=True``) and it is not installed.
    """
    if enabled is False:
        return False
    try:
        import torch.utils.tensorboard  # noqa: F401  (needs the tensorboard package)
    except ImportError:
        if enabled:
            raise GeovarioError("train: TensorBoard logs need the tensorboard package "
                                "(pip install tensorboard)") from None
        _hint_once()
        return False
    return True


@functools.cache
def _hint_once() -> None:
    print("train: no TensorBoard logs (pip install tensorboard for them; --tensorboard off "
          "hides this line)", file=sys.stderr)


class TensorBoardLog:
    """Draws each log record's numbers as scalars: steps under ``train/``, epochs ``epoch/``."""

    def __init__(self, run_dir: str | Path, start_step: int = 0):
        """Open the run's event files; a run resumed at ``start_step`` hides later old events.

        The resumed run logs every step after its checkpoint again, so TensorBoard's
        ``purge_step`` drops the events the interrupted run wrote for them.
        """
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(Path(run_dir) / TENSORBOARD_NAME),
                                    purge_step=start_step + 1 if start_step else None)

    def write(self, record: dict) -> None:
        """Add one record: its numbers as scalars, or the loss's settings as text."""
        if record.get("kind") == "loss":
            self.writer.add_text("loss", f"```\n{json.dumps(record, indent=1)}\n```",
                                 record["step"])
        else:
            group = "epoch" if record.get("kind") == "epoch" else "train"
            for key, value in record.items():
                if (key not in _POSITION_KEYS and isinstance(value, int | float)
                        and not isinstance(value, bool)):
                    self.writer.add_scalar(f"{group}/{key}", value, record["step"])
        self.writer.flush()  # a crash loses nothing that metrics.jsonl has

    def add_variogram(self, fitted) -> None:
        """The semivariogram the loss starts from (every region's, if any) at step 0."""
        from geovario.variogram.regional_plot import figure_of

        self.writer.add_figure("variogram", figure_of(fitted), 0, close=False)
        self.writer.flush()

    def close(self) -> None:
        """Flush and close the event file."""
        self.writer.close()
