"""Contrastive losses as plain ``torch.nn.Module``s, usable outside geovario.

The package imports torch only when a loss is used, so the option values in
:mod:`geovario.losses.options` serve the command line's help cheaply.
"""

import importlib
from pathlib import Path

from geovario.errors import GeovarioError
from geovario.lazy import lazy_attributes

_lazy = lazy_attributes(__name__, {
    "ContrastiveInputs": "base", "ContrastiveLoss": "base", "VariogramGuidedLoss": "base",
    "InfoNCELoss": "infonce", "SemivariogramContrastiveLoss": "semivariogram"})
#: The built-in losses; each registers itself from the module of the same name.
BUILT_IN_LOSSES = ("infonce", "semivariogram")


def _registry():
    """The loss registry with the built-in losses registered."""
    for module in BUILT_IN_LOSSES:
        importlib.import_module(f"{__name__}.{module}")
    from geovario.losses.base import LOSSES

    return LOSSES


def __getattr__(name: str) -> object:
    return _registry() if name == "LOSSES" else _lazy(name)


def list_losses() -> list[str]:
    """Names :func:`build_loss` accepts: the built-in losses first, then those users added.

    The order does not depend on which loss module happened to be imported first.
    """
    names = _registry().names()
    built_in = [name for name in BUILT_IN_LOSSES if name in names]
    return built_in + [name for name in names if name not in BUILT_IN_LOSSES]


def loss_class(name: str) -> type:
    """The registered loss class ``name`` (what it needs: ``needs_variogram``, options).

    Raises:
        GeovarioError: "unknown loss 'x' (choose from ...)", in :func:`list_losses`' order.
    """
    registry = _registry()
    if name not in registry:
        raise GeovarioError(f"unknown loss {name!r} (choose from {', '.join(list_losses())})")
    return registry[name]


def build_loss(name: str, *, variogram=None, **options):
    """A loss by name with its options (the training config's ``loss`` and ``loss_options``).

    ``variogram`` (a :class:`~geovario.variogram.fitted.FittedVariogram`, a
    :class:`~geovario.variogram.regional.RegionalVariogram` or the path of either's JSON
    file) is the run's; only a loss that ``needs_variogram`` receives it.
    A loss with an ``options_class`` refuses options that class lacks.

    Raises:
        GeovarioError: for an unknown loss or option, or a loss that needs a variogram
            without one.
    """
    from geovario.losses.options import make_options

    cls = loss_class(name)
    if cls.options_class is not None:
        make_options(cls.options_class, options, name)  # an unknown key ends here, in one line
    if not cls.needs_variogram:
        return cls(**options)
    if variogram is None:
        raise GeovarioError(f"the {name} loss needs a variogram file")
    from geovario.variogram import FittedVariogram
    from geovario.variogram.regional import RegionalVariogram, load_variogram

    if not isinstance(variogram, FittedVariogram | RegionalVariogram):
        variogram = load_variogram(Path(variogram))
    return cls(variogram=variogram, **options)


__all__ = ["BUILT_IN_LOSSES", "LOSSES", "ContrastiveInputs", "ContrastiveLoss", "InfoNCELoss",
           "SemivariogramContrastiveLoss", "VariogramGuidedLoss", "build_loss", "list_losses",
           "loss_class"]
