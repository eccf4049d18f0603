"""``geovario train ARGS`` with a small model and slowed steps, for tests that signal it.

Each step sleeps ``STEP_SLEEP_S`` seconds first (the numbers are unchanged), so a test
can send a signal in the middle of a chosen epoch.
"""

import os
import sys
import time
from dataclasses import replace

import geovario.commands.train as command
import geovario.train.loop as loop
from geovario.cli import main

real_step, real_configs = loop.contrastive_step, command.configs_from_args


def slow_step(*args, **kwargs):
    time.sleep(float(os.environ.get("STEP_SLEEP_S", "0")))
    return real_step(*args, **kwargs)


def small_configs(args, store_path):
    """The command line's configs with the small model of the synthetic tests."""
    model, config = real_configs(args, store_path)
    return replace(model, hidden=128, frequencies=32), config


if __name__ == "__main__":
    loop.contrastive_step = slow_step
    command.configs_from_args = small_configs
    sys.exit(main(["train", *sys.argv[1:]]))
