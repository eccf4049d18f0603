"""The paper's ablation: InfoNCE, hard-only, false-only, both and the prototype rule."""

from geovario.ablation.report import write_report
from geovario.ablation.run import run_ablation, summarize
from geovario.ablation.variants import VARIANTS, Variant

__all__ = ["VARIANTS", "Variant", "run_ablation", "summarize", "write_report"]
