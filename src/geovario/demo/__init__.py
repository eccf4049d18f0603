"""The offline end-to-end demo and its report."""

from geovario.demo.pipeline import DemoResult, run_demo
from geovario.demo.settings import FULL, QUICK, DemoSettings

__all__ = ["FULL", "QUICK", "DemoResult", "DemoSettings", "run_demo"]
