"""The one error shape: "<where>: <what> (<cause>); <fix>" on one line, printed as is."""

import pandas as pd

from geovario.cli import main
from geovario.errors import MAX_CAUSE, GeovarioError, describe, input_error


def test_input_error_keeps_the_location_first_and_the_cause_on_one_line():
    cause = ValueError("Error tokenizing data.\n\n  C error: Expected 2 fields in line 3\n")
    error = input_error("data/places.csv", "not a readable CSV", cause=cause,
                        fix="save it as UTF-8 CSV")
    assert isinstance(error, GeovarioError)
    assert str(error) == ("data/places.csv: not a readable CSV (ValueError: Error tokenizing "
                          "data. C error: Expected 2 fields in line 3); save it as UTF-8 CSV")


def test_a_message_with_line_breaks_becomes_one_line_whoever_built_it():
    assert str(GeovarioError("runs/a\nb: no config.json\r\n")) == "runs/a b: no config.json"
    assert str(input_error("x", "two\nlines")) == "x: two lines"
    assert "\n" not in str(GeovarioError(KeyError("a\nb")))


def test_describe_names_the_type_prefers_an_oserrors_reason_and_cuts_long_text():
    assert describe(PermissionError(13, "Permission denied", "/root/x")) == (
        "PermissionError: Permission denied")
    assert describe(OSError("no errno here")) == "OSError: no errno here"
    assert describe(RuntimeError()) == "RuntimeError"
    long = describe(ValueError("x" * 1000))
    assert long == "ValueError: " + "x" * MAX_CAUSE


def test_the_cli_prints_a_library_error_in_one_line_and_exits_2(tmp_path, monkeypatch, capsys):
    (tmp_path / "pred.csv").write_text("id,latitude,longitude\na,1,2\n")
    (tmp_path / "truth.csv").write_text("id,latitude,longitude\na,1,2\n")

    def broken(*args, **kwargs):
        raise pd.errors.ParserError("Error tokenizing data.\nC error: EOF inside string")

    monkeypatch.setattr(pd, "read_csv", broken)
    code = main(["metrics", str(tmp_path / "pred.csv"), "--truth", str(tmp_path / "truth.csv")])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (f"geovario metrics: error: {tmp_path / 'pred.csv'}: not a readable CSV "
                   "(ParserError: Error tokenizing data. C error: EOF inside string)\n")

