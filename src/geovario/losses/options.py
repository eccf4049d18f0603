"""Each loss's options as a frozen dataclass: the one home of their defaults and checks.

Importable without torch, so the command line's help, ``train`` and ``ablate`` read the
very defaults the losses use. A field's ``metadata`` holds its help text, its choices and,
where it differs from ``--field-name``, its command-line flag.
"""

import json
from dataclasses import MISSING, dataclass, field, fields, is_dataclass

from geovario.errors import GeovarioError

FALSE_NEGATIVE_MODES = ("downweight", "soft-positive", "none")
RULES = ("abstract", "prototype")
SCALES = ("sill", "spread")
#: Far pairs count as hard negatives when they look more alike than expected by more
#: than this many per-lag spreads of d. m = 0: every far pair that looks more alike than
#: expected is hard. Chosen by the evidence study (benchmarks/RESULTS.md, "Evidence"): on
#: Blue Marble m = 0 beat m = 1, and m = 1 beat m = 2, at 200, 750 and 2,500 km and in
#: GeoScore (paired, 5 seeds).
DEFAULT_HARD_MARGIN = 0.0
#: β, how fast a hard negative's weight grows with its residual. The same study at m = 0:
#: β = 2 beat β = 1 (GeoScore +19 [+6, +31]), which beat β = 0.5; larger β not yet tried.
DEFAULT_HARD_STRENGTH = 2.0


def _option(default, help: str, *, choices: tuple[str, ...] | None = None,
            flag: str | None = None):
    """A dataclass field with its command-line help (and choices, and flag if not the name)."""
    return field(default=default, metadata={"help": help, "choices": choices, "flag": flag})


@dataclass(frozen=True)
class SemivariogramOptions:
    """The semivariogram loss's strengths, margin and rule (see its module for the maths)."""

    hard_strength: float = _option(DEFAULT_HARD_STRENGTH, "beta: hard negatives' weight "
                                   "exp(beta * (residual - margin)), capped at --max-weight")
    max_weight: float = _option(3.0, "upper bound of a hard negative's weight")
    hard_margin: float = _option(DEFAULT_HARD_MARGIN, "m: a far pair is a hard negative only "
                                 "when it looks more alike than expected by more than m "
                                 "per-lag spreads of the dissimilarity")
    false_negatives: str = _option("downweight", "what happens to near pairs that look as "
                                   "alike as expected", choices=FALSE_NEGATIVE_MODES)
    false_strength: float = _option(1.0, "lambda: false negatives' weight 1 - lambda * "
                                    "correlation, or (soft-positive) their share of the "
                                    "target, at most lambda in all")
    residual_scale: str = _option("sill", "divide gamma(h) - d by the sill or by the per-lag "
                                  "spread of d", choices=SCALES)
    rule: str = _option("abstract", "abstract: the paper's reading; prototype: the April "
                        "2025 rule", choices=RULES, flag="--semivariogram-rule")
    false_ramp: float = _option(0.05, "delta: width of the false-negative ramp, in residual "
                                "units (full treatment from residual delta on)")

    def __post_init__(self):
        for name, choices in (("false_negatives", FALSE_NEGATIVE_MODES), ("rule", RULES),
                              ("residual_scale", SCALES)):
            if getattr(self, name) not in choices:
                raise GeovarioError(f"loss: {name} must be one of {', '.join(choices)}, got "
                                    f"{getattr(self, name)!r}")
        if self.hard_strength < 0 or self.max_weight < 1 or not 0 <= self.false_strength <= 1 \
                or self.hard_margin < 0 or not self.false_ramp > 0:
            raise GeovarioError("loss: need hard_strength >= 0, max_weight >= 1, "
                                "hard_margin >= 0, 0 <= false_strength <= 1 and false_ramp > 0")


#: The built-in losses' options classes, by loss name, for the command line (no torch).
#: A registered loss declares its own as ``options_class``.
LOSS_OPTIONS: dict[str, type] = {"semivariogram": SemivariogramOptions}


def option_flag(option) -> str:
    """The command-line flag of an options dataclass field."""
    return option.metadata.get("flag") or "--" + option.name.replace("_", "-")


def make_options(options_class: type, given: dict, loss: str):
    """``options_class(**given)``, refusing a key it lacks in one line.

    Raises:
        GeovarioError: "loss 'x': unknown option 'y' (known: ...)" or a bad value.
    """
    known = [f.name for f in fields(options_class)]
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise GeovarioError(f"loss {loss!r}: unknown option {unknown[0]!r} (known: "
                            f"{', '.join(known) or 'none'})")
    return options_class(**given)


def parse_loss_options(pairs: list[str], options_class: type | None) -> dict:
    """``--loss-option KEY=VALUE`` pairs as a dict of typed values.

    With an options dataclass a value takes its field's type (from the default); without
    one it is read as JSON (``2``, ``0.5``, ``true``) and else kept as text.

    Raises:
        GeovarioError: "--loss-option: expected KEY=VALUE, got 'x'" or a value that is not
            a number where one is needed.
    """
    defaults = {} if options_class is None or not is_dataclass(options_class) else {
        f.name: f.default for f in fields(options_class) if f.default is not MISSING}
    parsed = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise GeovarioError(f"--loss-option: expected KEY=VALUE, got {pair!r}")
        parsed[key] = _typed(key, text, defaults.get(key))
    return parsed


def _typed(key: str, text: str, default):
    """``text`` as the type of ``default`` (JSON, else text, when there is none)."""
    if isinstance(default, bool):
        if text.lower() not in ("true", "false", "1", "0"):
            raise GeovarioError(f"--loss-option {key}: expected true or false, got {text!r}")
        return text.lower() in ("true", "1")
    if isinstance(default, int | float):
        try:
            return type(default)(text)
        except ValueError:
            raise GeovarioError(f"--loss-option {key}: expected a number, got {text!r}") \
                from None
    if isinstance(default, str):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
