"""Inference stands alone: loading a run for prediction never imports the training code."""


def test_inference_imports_no_training_or_loss_module(modules_loaded_by):
    code = "import geovario.inference, geovario.inference.images, geovario.serve.app"
    assert modules_loaded_by(code, ("geovario.train", "geovario.losses",
                                    "geovario.ablation")) == []


def test_loading_runs_by_hub_reference_does_not_import_the_push_code(modules_loaded_by):
    code = ("import geovario.inference, geovario.serve.app, geovario.data.osv5m\n"
            "from geovario.inference.runs import load_run")
    assert modules_loaded_by(code, ("geovario.hub",)) == ["geovario.hub", "geovario.hub.refs"]
