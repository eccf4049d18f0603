"""Inference stands alone: loading a run for prediction never imports the training code."""


def test_inference_imports_no_training_or_loss_module(modules_loaded_by):
    code = "import geovario.inference, geovario.inference.images, geovario.serve.app"
    assert modules_loaded_by(code, ("geovario.train", "geovario.losses",
                                    "geovario.ablation")) == []
