"""The paper's ablation: InfoNCE, hard-only, false-only, both and the prototype rule."""

from geovario.ablation.paired import compare_runs, paired_differences
from geovario.ablation.report import write_report
from geovario.ablation.run import compare_to_baseline, run_ablation, summarize
from geovario.ablation.variants import VARIANTS, Variant

__all__ = ["VARIANTS", "Variant", "compare_runs", "compare_to_baseline", "paired_differences",
           "run_ablation", "summarize", "write_report"]
