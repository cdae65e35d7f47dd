"""``truecost eval``: ask a suite of questions at an endpoint, grade the answers, and cost each
task and each correct answer.

Modules: ``suites`` (JSONL suites, built-in GSM8K and TokenEconomy), ``graders`` (numeric,
choice, exact, regex, LLM judge; the Wilson interval), ``run`` (``run_eval`` through bench's
runner, each answer stored as it arrives), ``results`` (``load_eval``: a stored run summarised), ``profiles`` (published tokens per task, and compare
candidates that take their tokens and accuracy from a profile or an eval run).
"""

from .results import EvalResult as EvalResult
from .results import EvalSummary as EvalSummary
from .results import load_eval as load_eval
from .run import run_eval as run_eval
from .suites import Question as Question
from .suites import Suite as Suite
from .suites import load_suite as load_suite

__all__ = ["EvalResult", "EvalSummary", "Question", "Suite", "load_eval", "load_suite", "run_eval"]
