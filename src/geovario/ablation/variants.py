"""The ablation's variants: which parts of the semivariogram loss each one switches on."""

from dataclasses import dataclass

from geovario.registry import Registry


@dataclass(frozen=True)
class Variant:
    """A named loss configuration."""

    name: str
    loss: str
    options: dict
    description: str


#: The variants by name; an experiment adds its own with ``VARIANTS.register(name)(variant)``.
VARIANTS: Registry[Variant] = Registry("ablation variant")
for _variant in (
    Variant("infonce", "infonce", {}, "GeoCLIP's InfoNCE (baseline)"),
    Variant("hard", "semivariogram", {"false_negatives": "none"},
            "hard negatives up-weighted only"),
    Variant("false", "semivariogram", {"hard_strength": 0.0},
            "false negatives down-weighted only"),
    Variant("both", "semivariogram", {}, "hard and false negatives (the method)"),
    Variant("prototype", "semivariogram", {"rule": "prototype"},
            "the April 2025 prototype's rule"),
):
    VARIANTS.register(_variant.name)(_variant)


def list_variants() -> list[str]:
    """Names ``geovario ablate --variants`` accepts."""
    return VARIANTS.names()
