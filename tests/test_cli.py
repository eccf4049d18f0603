"""The entry point: cheap to start, every command reachable, one-line errors."""

import argparse
import os
import subprocess
import sys

import pytest

from geovario.cli import COMMANDS, build_parser, main
from geovario.commands.options import DEVICE_HELP, QUIET_HELP
from geovario.data.splits import LAYOUTS
from geovario.errors import GeovarioError


def test_importing_the_cli_and_listing_commands_loads_no_heavy_library(modules_loaded_by):
    code = ("import contextlib, io\n"
            "from geovario.cli import main\n"
            "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
            "    main(['--help'])")
    assert modules_loaded_by(code, ("torch", "matplotlib", "scipy", "pandas")) == []


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "serve", "demo", "push",
                                     "store", "metrics"])
def test_a_commands_help_loads_no_torch(command, modules_loaded_by):
    code = ("import contextlib, io\n"
            "from geovario.cli import main\n"
            "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
            f"    main([{command!r}, '--help'])")
    assert modules_loaded_by(code, ("torch",)) == []


def test_the_metrics_command_runs_without_torch(tmp_path):
    (tmp_path / "p.csv").write_text("id,latitude,longitude\na,10,20\nb,-5,30\n")
    (tmp_path / "t.csv").write_text("id,latitude,longitude\na,10,20\nb,-5,31\n")
    program = ("import sys\nfrom geovario.cli import main\n"
               f"assert main(['metrics', {str(tmp_path / 'p.csv')!r}, '--truth', "
               f"{str(tmp_path / 't.csv')!r}]) == 0\n"
               "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().splitlines()[-1] == "False"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_its_own_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: geovario {command}")
    assert len(out.splitlines()) > 3  # the command's own options, not a bare stub


def test_top_level_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command, summary in COMMANDS.items():
        assert command in out and summary.split()[0] in out


def test_an_error_line_carries_one_prefix(tmp_path, capsys):
    assert main(["metrics", str(tmp_path / "none.csv"), "--truth", str(tmp_path / "t.csv")]) == 2
    err = capsys.readouterr().err
    assert err == f"geovario metrics: error: {tmp_path}/none.csv: no such file\n"
    assert main(["extract", "--dataset", "imagenet", "--root", str(tmp_path), "--backbone",
                 "efficientnet-lite0", "--out", str(tmp_path / "s")]) == 2
    assert capsys.readouterr().err.startswith("geovario extract: error: unknown dataset")


def own_parser(command: str) -> argparse.ArgumentParser:
    """The parser of ``geovario COMMAND``, with its full options."""
    top = build_parser([command])
    return next(a for a in top._actions
                if isinstance(a, argparse._SubParsersAction)).choices[command]


def command_parsers(command: str) -> list[argparse.ArgumentParser]:
    """The parsers of a command's options: the command's own, or each of its actions'."""
    todo, leaves = [own_parser(command)], []
    while todo:
        parser = todo.pop()
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        todo += [p for sub in subs for p in sub.choices.values()]
        leaves += [] if subs else [parser]
    return leaves


def options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """The options ``--help`` shows, by flag (old spellings, hidden from it, left out)."""
    return {flag: action for action in parser._actions if action.help != argparse.SUPPRESS
            for flag in action.option_strings}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_option_has_help_and_a_shown_default(command):
    own = own_parser(command)
    for flag, action in options(own).items():
        if action.dest == "help":
            continue
        assert action.help, f"{command} {flag} has no help"
        text = own.formatter_class("x")._get_help_string(action)
        if action.default not in (None, False):
            assert "(default:" in text, f"{command} {flag} hides its default"


#: The commands that run a torch model (a backbone, the network) or a torch pass, and so
#: take --device; --quiet goes with every progress bar. Both come from commands/options.py.
DEVICE = {"ablate", "demo", "evaluate", "extract", "predict", "serve", "train", "variogram"}
QUIET = DEVICE | {"bluemarble build"}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_device_and_quiet_are_the_shared_options_where_a_command_needs_them(command):
    for parser in command_parsers(command):
        name = parser.prog.removeprefix("geovario ")
        flags = options(parser)
        assert ("--device" in flags) == (name in DEVICE), f"{name}: --device"
        assert ("--quiet" in flags) == (name in QUIET), f"{name}: --quiet"
        if "--device" in flags:
            assert DEVICE_HELP in flags["--device"].help
        if "--quiet" in flags:
            assert flags["--quiet"].help == QUIET_HELP and flags["--quiet"].default is False


def test_layout_choices_come_from_one_constant():
    from geovario.data import bluemarble

    assert bluemarble.LAYOUTS is LAYOUTS == ("blocked", "interleaved", "fine")
    layout_options = [action for command in ("bluemarble", "demo")
                      for parser in command_parsers(command)
                      for action in parser._actions if action.dest == "layout"]
    assert len(layout_options) == 4  # --layout and its old spelling --split, in each command
    assert all(action.choices is LAYOUTS for action in layout_options)
    for layout in LAYOUTS:  # what the commands offer is what a build takes
        assert bluemarble.BuildConfig(split=layout).resolved().split == layout
    with pytest.raises(GeovarioError, match="split must be one of blocked, interleaved, fine"):
        bluemarble.BuildConfig(split="train").resolved()


@pytest.mark.parametrize("command", ["download", "extract"])
def test_split_means_train_or_test(command):
    (parser,) = command_parsers(command)
    assert options(parser)["--split"].choices == ("train", "test")


@pytest.mark.parametrize(("command", "preset", "expected"),
                         [("extract", None, "PASSIVE"), ("extract", "ACTIVE", "ACTIVE"),
                          ("metrics", None, None)])
def test_openmp_threads_wait_passively_only_where_workers_share_the_cores(command, preset,
                                                                          expected):
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if preset:
        env["OMP_WAIT_POLICY"] = preset
    code = ("import os, sys\nfrom geovario import cli\ntry:\n"
            "    cli.main([sys.argv[1], '--help'])\nexcept SystemExit:\n    pass\n"
            "print(os.environ.get('OMP_WAIT_POLICY'))")
    done = subprocess.run([sys.executable, "-c", code, command], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == str(expected)
