"""An epoch's running sums, kept in mid-epoch checkpoints.

The epoch line of ``metrics.jsonl`` averages every step of the epoch. A run resumed in
the middle of an epoch restores the sums of the steps before its checkpoint, so it logs
the same ``train_loss`` (and loss statistics, and time) as a run that never stopped.
"""

import time
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass
class EpochTally:
    """Sums of the step losses and of the loss's statistics over the epoch so far."""

    steps: int = 0
    loss: float = 0.0
    #: statistic name -> [sum, steps that reported it] (warm-up steps report fewer)
    stats: dict[str, list[float]] = field(default_factory=dict)
    #: wall time of the epoch before this process took it over
    earlier_s: float = 0.0
    _started: float = field(default_factory=time.perf_counter, repr=False, compare=False)

    def add(self, loss: float, stats: Mapping[str, float]) -> None:
        """Count one step."""
        self.steps += 1
        self.loss += loss
        for key, value in stats.items():
            total = self.stats.setdefault(key, [0.0, 0])
            total[0] += float(value)
            total[1] += 1

    @property
    def seconds(self) -> float:
        """Wall time of the epoch so far, across resumes."""
        return self.earlier_s + time.perf_counter() - self._started

    def means(self) -> dict:
        """``train_loss`` and each statistic's mean over the epoch."""
        return {"train_loss": self.loss / self.steps if self.steps else None,
                **{key: total / count for key, (total, count) in self.stats.items()}}

    def to_dict(self) -> dict:
        """JSON-ready, for the checkpoint's metadata."""
        return {"steps": self.steps, "loss": self.loss, "stats": self.stats,
                "earlier_s": self.seconds}

    @classmethod
    def from_dict(cls, data: Mapping | None) -> "EpochTally":
        """Rebuild from :meth:`to_dict`; an empty tally for checkpoints without one."""
        data = data or {}
        return cls(steps=int(data.get("steps", 0)), loss=float(data.get("loss", 0.0)),
                   stats={k: list(v) for k, v in data.get("stats", {}).items()},
                   earlier_s=float(data.get("earlier_s", 0.0)))
