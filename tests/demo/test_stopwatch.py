import geovario.demo.pipeline as pipeline


def test_freed_memory_goes_back_as_each_stage_starts_and_ends(tmp_path, monkeypatch):
    events = []
    monkeypatch.setattr(pipeline, "release_freed_memory", lambda: events.append("release"))
    clock = pipeline.Stopwatch(tmp_path / "timings.json", progress=False)
    assert clock.run("first", lambda: events.append("first") or 1) == 1
    events.append("between the stages")  # e.g. a predictor dropped after its evaluation
    clock.run("second", lambda: events.append("second"))
    assert events == [
        "release",
        "first",
        "release",
        "between the stages",
        "release",
        "second",
        "release",
    ]
    assert [row.name for row in clock.table.rows] == ["first", "second"]
