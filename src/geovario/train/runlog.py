"""The run's metrics log: one JSON object per line, truncated to the checkpoint on resume."""

import json
from pathlib import Path

from geovario.train.tensorboard import TensorBoardLog


class RunLog:
    """Append-only JSONL log of steps and epochs; only rank 0 writes.

    ``mirror`` (a :class:`~geovario.train.tensorboard.TensorBoardLog`) gets every record
    written too, so other views of the run never disagree with this file.
    """

    def __init__(self, path: Path, enabled: bool = True,
                 mirror: TensorBoardLog | None = None):
        self.path = Path(path)
        self.enabled = enabled
        self.mirror = mirror

    def rewind(self, global_step: int) -> None:
        """Drop lines logged after ``global_step`` (work the resumed run will redo)."""
        if not self.enabled or not self.path.exists():
            return
        kept = [line for line in self.path.read_text().splitlines()
                if line.strip() and json.loads(line).get("step", 0) <= global_step]
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(line + "\n" for line in kept))
        tmp.replace(self.path)

    def write(self, record: dict) -> None:
        """Append one record and flush it to disk."""
        if not self.enabled:
            return
        with self.path.open("a") as handle:
            handle.write(json.dumps(record) + "\n")
        if self.mirror is not None:
            self.mirror.write(record)

    def close(self) -> None:
        """Close the mirror, if any (the JSONL file is closed after every write)."""
        if self.mirror is not None:
            self.mirror.close()

    def read(self) -> list[dict]:
        """All records (for reports and tests)."""
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]


def settings_line(loss: str, settings: dict) -> str:
    """The loss's settings for the terminal; the log keeps them as JSON.

    E.g. ``train: semivariogram loss: rule abstract, range 1,580 km, hard strength 2``.
    """

    def shown(key: str, value) -> str:
        if key.endswith("_km") and isinstance(value, int | float):
            return f"{key.removesuffix('_km').replace('_', ' ')} {value:,.0f} km"
        text = f"{value:g}" if isinstance(value, float) else str(value)
        return f"{key.replace('_', ' ')} {text}"

    return f"train: {loss} loss: " + ", ".join(shown(k, v) for k, v in settings.items())
