"""Derive the eval data truecost ships from the public data sets it comes from.

    python tools/derive_eval_data.py SOURCE_DIR

``SOURCE_DIR`` holds ``gsm8k/`` (openai/grade-school-math test.jsonl + LICENSE),
``token_economy/`` (cpldcpu/LRMTokenEconomy: TokenEconomyDataset_V1.json, tokens_per_task.csv,
LICENSE) and ``routellm_gsm8k/`` (lm-sys/RouteLLM gsm8k_responses.csv + LICENSE). It writes:

- ``src/truecost/eval/data/gsm8k_test_300.jsonl``: the first 300 lines of the GSM8K test split,
  byte for byte;
- ``src/truecost/eval/data/token_economy_suite.jsonl``: the 19 TokenEconomy prompts as a suite.
  A criterion "Answer is N [unit]" becomes a numeric question, "Answer is <name>" a regex on the
  name, anything else (the logic puzzles) a judge question with the criterion;
- ``src/truecost/catalog/data/token_profiles.toml``: per model and domain (and ``all``), the mean
  over prompts of the study's per-prompt mean completion and reasoning tokens and success rate;
- ``examples/routellm-gsm8k/outcomes.csv``: RouteLLM's per-question correctness of Mixtral-8x7B
  and GPT-4-1106 on the GSM8K test split, with each response's extracted final number
  (truecost's numeric extractor); the response texts are not shipped.

The script is the record of how the shipped files were made; the tests never run it.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from truecost.eval.graders import extract_number  # noqa: E402

TE_COMMIT = "d5cc353cf1250b805f955504b807530248154e62"
TE_DATE = "2025-08-07"
TE_SOURCE = ("TokenEconomy study (cpldcpu/LRMTokenEconomy; Nous Research, Aug 2025), "
             "data/detailed_evaluations_*.json")
# How the study's reasoning tokens were obtained per model (its README, "reasoning-token rule").
API_REPORTED = {"o4-mini-high-long", "gemini-2.5-pro", "gemini-2.5-flash-high", "grok-3-mini-think",
                "grok-4-07-09", "o3-mini-high", "o1-mini"}
CLAUDE_ESTIMATE = {"claude-4-sonnet-0522-thinking", "claude-3-7-sonnet-20250219", "claude-opus-4",
                   "claude-opus-4.1"}
WEAK, STRONG = "mistralai/Mixtral-8x7B-Instruct-v0.1", "gpt-4-1106-preview"


def gsm8k_subset(src: Path, n: int = 300) -> None:
    out = REPO / "src/truecost/eval/data/gsm8k_test_300.jsonl"
    with (src / "gsm8k/test.jsonl").open("rb") as f:
        lines = [next(f) for _ in range(n)]
    out.write_bytes(b"".join(lines))
    shutil.copy(src / "gsm8k/LICENSE", out.parent / "LICENSE-GSM8K")


def token_economy_suite(src: Path) -> None:
    data = json.loads((src / "token_economy/TokenEconomyDataset_V1.json").read_text())
    out = REPO / "src/truecost/eval/data/token_economy_suite.jsonl"
    lines = []
    for p in data["prompts"]:
        (criterion,) = p["criteria"]
        domain = p["type"].lower().replace(" ", "_")
        m = re.fullmatch(r"Answer [iì]s (.+)", criterion.strip())
        line = {"id": p["prompt_id"], "question": p["prompt"], "domain": domain}
        number = re.fullmatch(r"(-?\d+(?:\.\d+)?)(?: [a-z]+)?", m.group(1)) if m else None
        if number:
            line |= {"answer": number.group(1), "grader": "numeric"}
        elif m:
            line |= {"answer": r"(?i)\b" + re.escape(m.group(1)) + r"\b", "grader": "regex"}
        else:
            line |= {"answer": criterion, "grader": "judge"}
        lines.append(json.dumps(line, ensure_ascii=False))
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.copy(src / "token_economy/LICENSE", out.parent / "LICENSE-TokenEconomy")


def token_profiles(src: Path) -> None:
    rows = list(csv.DictReader((src / "token_economy/tokens_per_task.csv").open()))
    models = list(dict.fromkeys(r["model"] for r in rows))
    out = ["# Published tokens per task and success rate of reasoning models, by domain.",
           "# Derived by tools/derive_eval_data.py from the TokenEconomy study's per-prompt means",
           f"# (cpldcpu/LRMTokenEconomy @ {TE_COMMIT[:7]}, {TE_DATE}; Apache-2.0, see",
           "# truecost/eval/data/LICENSE-TokenEconomy). Per model and domain: the mean over the",
           "# domain's prompts (each prompt weighted equally) of the mean over runs of completion",
           "# tokens (reasoning included, as billed), reasoning tokens and the judge's success rate.",
           "# output_tokens = completion - reasoning. Input tokens were not recorded by the study.",
           ""]
    for model in models:
        mine = [r for r in rows if r["model"] == model]
        rule = ("api-reported" if model in API_REPORTED else
                "completion minus answer characters / 3.1" if model in CLAUDE_ESTIMATE else
                "completion x reasoning characters / all characters")
        for domain in ("knowledge", "math", "logic_puzzle", "all"):
            sel = [r for r in mine if domain in ("all", r["domain"])]
            completion = statistics.fmean(float(r["mean_completion_tokens"]) for r in sel)
            reasoning = statistics.fmean(float(r["mean_reasoning_tokens"]) for r in sel)
            acc = statistics.fmean(float(r["accuracy"]) for r in sel)
            out += [f'["token-economy/{model}/{domain}"]',
                    f"completion_tokens = {completion:.1f}",
                    f"reasoning_tokens = {reasoning:.1f}",
                    f"output_tokens = {completion - reasoning:.1f}",
                    f"accuracy = {acc:.4f}",
                    f"prompts = {len(sel)}",
                    f"runs = {sum(int(r['runs']) for r in sel)}",
                    f'reasoning_rule = "{rule}"',
                    f'source = "{TE_SOURCE}"',
                    f'commit = "{TE_COMMIT}"',
                    f"as_of = {TE_DATE}", ""]
    (REPO / "src/truecost/catalog/data/token_profiles.toml").write_text("\n".join(out))


def routellm_outcomes(src: Path) -> None:
    out_dir = REPO / "examples/routellm-gsm8k"
    out_dir.mkdir(parents=True, exist_ok=True)
    with (src / "routellm_gsm8k/gsm8k_responses.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    with (out_dir / "outcomes.csv").open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", WEAK, STRONG, f"{WEAK}:answer", f"{STRONG}:answer"])
        for i, r in enumerate(rows):
            answers = []
            for m in (WEAK, STRONG):
                x = extract_number(r[f"{m}_response"])
                answers.append("" if x is None else (str(int(x)) if x.is_integer() else repr(x)))
            w.writerow([f"gsm8k-test-{i}", r[WEAK], r[STRONG], *answers])
    shutil.copy(src / "routellm_gsm8k/LICENSE", out_dir / "LICENSE")


if __name__ == "__main__":
    source = Path(sys.argv[1])
    gsm8k_subset(source)
    token_economy_suite(source)
    token_profiles(source)
    routellm_outcomes(source)
