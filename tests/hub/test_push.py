"""``geovario push``: what is uploaded, the model card, and one-line errors."""

import json
import shutil

import huggingface_hub
import numpy as np
import pytest
from huggingface_hub.errors import HfHubHTTPError
from tests.helpers.fake_hub import assert_one_line_error, http_error

from geovario.cli import main
from geovario.errors import GeovarioError
from geovario.hub.push import push_run
from geovario.losses.semivariogram import PAPER_ARXIV
from geovario.rundir import EVALUATION_NAME, WEIGHTS_NAME


def test_the_model_card_has_metadata_metrics_plot_and_usage(runs, hub):
    push_run(runs / "run", "me/geo-run", datasets=("osv5m/osv5m",))
    card = huggingface_hub.ModelCard(hub.files("me/geo-run")["README.md"].decode())
    assert card.data.library_name == "geovario"
    assert {"geolocalization", "image-geolocation", "geoclip", "semivariogram",
            f"arxiv:{PAPER_ARXIV}"} <= set(card.data.tags)
    assert card.data.datasets == ["osv5m/osv5m"]
    metrics = json.loads((runs / "run" / EVALUATION_NAME).read_text())
    assert f"| acc_25km | {100 * metrics['acc_25km']:.2f} % |" in card.text
    assert f"| n | {metrics['n']} |" in card.text
    assert "](variogram.png)" in card.text and "Region-wise" not in card.text
    assert 'Predictor("hf:me/geo-run")' in card.text
    assert "geovario predict hf:me/geo-run " in card.text


def test_an_infonce_run_without_evaluation_gets_no_paper_tag_and_no_table(runs, hub, tmp_path):
    run = tmp_path / "plain"
    run.mkdir()
    for name in ("config.json", WEIGHTS_NAME):
        shutil.copy(runs / "run" / name, run / name)
    config = json.loads((run / "config.json").read_text())
    config["train"].update(loss="infonce", loss_options={}, variogram=None)
    (run / "config.json").write_text(json.dumps(config))
    push_run(run, "me/plain")
    assert sorted(hub.files("me/plain")) == ["README.md", "config.json", WEIGHTS_NAME]
    card = huggingface_hub.ModelCard(hub.files("me/plain")["README.md"].decode())
    assert not any(tag.startswith("arxiv:") for tag in card.data.tags)
    assert "## Evaluation" not in card.text and card.data.datasets is None


def test_push_predict_and_evaluate_commands(runs, hub, tmp_path, monkeypatch, capsys):
    assert main(["push", str(runs / "run"), "me/cli-run", "--private"]) == 0
    out = capsys.readouterr().out
    assert "https://huggingface.co/me/cli-run/commit/" in out and "hf:me/cli-run" in out
    assert hub.repos["me/cli-run"]["private"] is True
    common = ["--store", str(runs / "test"), "--gallery", f"store:{runs / 'train'}",
              "--device", "cpu", "--json"]
    assert main(["predict", "hf:me/cli-run", "--ids", "s1,s2", "--top-k", "2", *common]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["run"] == "hf:me/cli-run" and len(result["results"]) == 2
    monkeypatch.chdir(tmp_path)
    assert main(["evaluate", "hf:me/cli-run", *common]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 64
    assert (tmp_path / "predictions-test.csv").is_file()  # not inside the Hugging Face cache


def test_bad_push_input_is_one_line(runs, hub, tmp_path, monkeypatch, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["push", str(tmp_path / "empty"), "me/x"]) == 2
    assert_one_line_error(capsys, "push", f"{tmp_path / 'empty'}: no model.safetensors; not a "
                          "trained geovario run (training writes it at the end of each epoch)")
    assert main(["push", str(runs / "run"), "geo-run"]) == 2
    assert_one_line_error(capsys, "push", "'geo-run' is not a Hugging Face repository id like "
                          "OWNER/NAME")
    shutil.copytree(runs / "run", tmp_path / "damaged")
    (tmp_path / "damaged" / EVALUATION_NAME).write_text("{")
    assert main(["push", str(tmp_path / "damaged"), "me/x"]) == 2
    assert f"error: {tmp_path / 'damaged' / EVALUATION_NAME}: not valid JSON (" in \
        capsys.readouterr().err

    def refused(*args, **kwargs):
        raise http_error(HfHubHTTPError, "https://huggingface.co/api/repos/create")

    monkeypatch.setattr(hub, "create_repo", refused)
    assert main(["push", str(runs / "run"), "me/x"]) == 2
    assert_one_line_error(capsys, "push", f"cannot upload {runs / 'run'} to Hugging Face model "
                          "me/x (HfHubHTTPError: 404 Client Error for url: "
                          "https://huggingface.co/api/repos/create)")


def test_a_run_that_named_an_outside_variogram_is_pushed_whole(runs, hub, tmp_path):
    """Runs trained before runs kept their own copy recorded the path they were given."""
    run, outside = tmp_path / "old", tmp_path / "shared" / "v.json"
    shutil.copytree(runs / "run", run)
    outside.parent.mkdir()
    (run / "variogram.json").rename(outside)
    config = json.loads((run / "config.json").read_text())
    del config["train"]["variogram"]  # older runs kept it among the loss's options
    config["train"]["loss_options"]["variogram"] = str(outside)
    (run / "config.json").write_text(json.dumps(config))

    push_run(run, "me/old")
    files = hub.files("me/old")
    assert files["variogram.json"] == outside.read_bytes()
    pushed = json.loads(files["config.json"])
    assert pushed["train"]["variogram"] == "variogram.json"
    assert "variogram" not in pushed["train"]["loss_options"]
    assert pushed["model"] == config["model"]
    outside.unlink()  # now the run references a file that is gone
    with pytest.raises(GeovarioError) as error:
        push_run(run, "me/old")
    assert str(error.value) == (f"{run / 'config.json'}: the loss's variogram {outside} is not "
                                "there, nor a variogram.json in the run")


def test_a_region_wise_run_states_its_regions_and_uploads_their_plot(runs, hub, tmp_path):
    from geovario.variogram import FittedVariogram
    from geovario.variogram.regional import Region, RegionalVariogram, load_variogram

    run = tmp_path / "regional"
    shutil.copytree(runs / "run", run)
    glob = FittedVariogram.load(run / "variogram.json")
    fits = (FittedVariogram.single("exponential", 0.01, 0.2, 350.0),
            FittedVariogram.single("exponential", 0.02, 0.3, 2600.0),
            glob)
    regions = tuple(Region(lat, lon, 100, np.zeros(len(glob.empirical.pairs), dtype=np.int64),
                           fit) for (lat, lon), fit in zip(((0, 0), (0, 90), (0, -90)), fits,
                                                           strict=True))
    RegionalVariogram(glob, regions).save(run / "variogram.json")
    push_run(run, "me/regional")
    files = hub.files("me/regional")
    card = huggingface_hub.ModelCard(files["README.md"].decode()).text
    ranges = sorted(f.range_km for f in fits)
    assert (f"practical range {glob.range_km:,.0f} km (`variogram.json`). Region-wise: 3 regions "
            f"with practical ranges {ranges[0]:,.0f}-{ranges[-1]:,.0f} km") in card
    assert isinstance(load_variogram(run / "variogram.json"), RegionalVariogram)
    # The uploaded plot is the regional figure (curves and a map: 13 × 5.5 in at 110 dpi),
    # not the global one (7 × 5 in at 120 dpi); PNG keeps the width in bytes 16-19.
    width = int.from_bytes(files["variogram.png"][16:20], "big")
    assert width == 13 * 110
