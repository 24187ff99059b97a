"""Deciding on evidence: pass/fail thresholds and the paired release gate."""

from workbench.decide.gate import GateConfigError, evaluate_gate
from workbench.decide.gate_result import GateCheck, GateResult, PairedStats
from workbench.decide.paired_stats import BootstrapPlan, bootstrap_ci, sign_test_p
from workbench.decide.score_matrix import ScoresTableError
from workbench.decide.thresholds import (
    PassRates,
    PromptFailure,
    ThresholdChange,
    ThresholdError,
    ThresholdEvaluator,
    ThresholdReport,
    passed_column,
)
from workbench.decide.verdict_text import format_number, render_text

__all__ = [
    "BootstrapPlan",
    "GateCheck",
    "GateConfigError",
    "GateResult",
    "PairedStats",
    "PassRates",
    "PromptFailure",
    "ScoresTableError",
    "ThresholdChange",
    "ThresholdError",
    "ThresholdEvaluator",
    "ThresholdReport",
    "bootstrap_ci",
    "evaluate_gate",
    "format_number",
    "passed_column",
    "render_text",
    "sign_test_p",
]
