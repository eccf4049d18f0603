"""The ablation's variants: which parts of the semivariogram loss each one switches on."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    """A named loss configuration."""

    name: str
    loss: str
    options: dict
    description: str


VARIANTS = {
    "infonce": Variant("infonce", "infonce", {}, "GeoCLIP's InfoNCE (baseline)"),
    "hard": Variant("hard", "semivariogram", {"false_negatives": "none"},
                    "hard negatives up-weighted only"),
    "false": Variant("false", "semivariogram", {"hard_strength": 0.0},
                     "false negatives down-weighted only"),
    "both": Variant("both", "semivariogram", {}, "hard and false negatives (the method)"),
    "prototype": Variant("prototype", "semivariogram", {"rule": "prototype"},
                         "the April 2025 prototype's rule"),
}
