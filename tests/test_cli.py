"""The entry point: cheap to start, every command reachable, one-line errors."""

import argparse
import subprocess
import sys

import pytest

from geovario.cli import COMMANDS, build_parser, main


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


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_option_has_help_and_a_shown_default(command):
    parser = build_parser([command])
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for action in sub.choices[command]._actions:
        if not action.option_strings or action.dest == "help":
            continue
        assert action.help, f"{command} {action.option_strings[0]} has no help"
        text = sub.choices[command].formatter_class("x")._get_help_string(action)
        if action.default not in (None, False):
            assert "(default:" in text, f"{command} {action.option_strings[0]} hides its default"
