r"""Progress bars that stay readable when the output is a log file rather than a terminal.

tqdm redraws its line with ``\r`` at every update (10 per second, and at every
``set_postfix``); in a terminal that is one line, in a CI log or ``demo > log 2>&1`` it is
thousands. Here a bar on a terminal behaves as tqdm always does, and a bar writing to
anything else updates at most once every ``LOG_INTERVAL_S`` seconds (tqdm's own
``mininterval``/``maxinterval``) and never redraws for a postfix alone, so a log keeps a
handful of lines per stage, the last one with the totals.
"""

import sys

from tqdm.auto import tqdm

#: Seconds between two updates of a bar whose output is not a terminal.
LOG_INTERVAL_S = 30.0


def _is_terminal(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class ProgressBar(tqdm):
    """tqdm that, off a terminal, throttles its redraws (see the module docstring)."""

    def __init__(self, *args, **kwargs):
        self.interactive = _is_terminal(kwargs.get("file") or sys.stderr)
        if not self.interactive:
            kwargs.setdefault("mininterval", LOG_INTERVAL_S)
            kwargs.setdefault("maxinterval", LOG_INTERVAL_S)
        super().__init__(*args, **kwargs)

    def set_postfix(self, ordered_dict=None, refresh: bool = True, **kwargs) -> None:
        """As tqdm's, but a log gets the new postfix with the next timed update only."""
        super().set_postfix(ordered_dict, refresh=refresh and self.interactive, **kwargs)


def progress_bar(iterable=None, *, enabled: bool = True, **options) -> ProgressBar:
    """A progress bar on stderr (tqdm's arguments); ``enabled=False`` shows nothing."""
    return ProgressBar(iterable, disable=not enabled or options.pop("disable", False), **options)
