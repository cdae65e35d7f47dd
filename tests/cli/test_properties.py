"""Property tests (hypothesis): whatever a user gives — a workload TOML mutated from the shipped
examples, or any value of the numeric flags of estimate, train and bench — truecost ends in
either a valid result (exit 0, strict JSON on stdout, every figure finite, $ non-negative) or
exactly one ``error:`` line on stderr (exit 1, or 2 for a command line typer cannot parse). Never
a traceback, an internal error, NaN or Infinity.

Runs in CI with fixed seeds (``derandomize=True``, no example database) and a few hundred
examples per target; ``TRUECOST_PROPERTY_SCALE=20`` runs twenty times as many (a long hunt).
"""

from __future__ import annotations

import json
import math
import os
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.fakeserver import MODEL, FakeServer

from ..conftest import REPO

SCALE = float(os.environ.get("TRUECOST_PROPERTY_SCALE") or 1)


def examples(n: int) -> settings:
    """``n`` examples (times the scale), the same ones on every run: CI must be reproducible."""
    return settings(max_examples=max(1, int(n * SCALE)), derandomize=True, database=None, deadline=None, print_blob=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


def _no_constant(name: str) -> Any:
    raise AssertionError(f"{name} in --json output: not JSON")


def _numbers(obj: Any) -> list[float]:
    if isinstance(obj, bool):
        return []
    if isinstance(obj, (int, float)):
        return [obj]
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in _numbers(v)]
    if isinstance(obj, list):
        return [x for v in obj for x in _numbers(v)]
    return []


def check_outcome(r: Any) -> Any:
    """The property: a valid JSON result, or one error line. Returns the parsed JSON (or None)."""
    assert "Traceback" not in r.stderr + r.stdout, r.stderr
    if r.code == 0:
        doc = json.loads(r.stdout, parse_constant=_no_constant)
        assert all(math.isfinite(x) for x in _numbers(doc))
        assert all(line.startswith(("note: ", "warning: ")) for line in r.stderr.splitlines()), r.stderr
        return doc
    assert r.code in (1, 2), (r.code, r.stderr)
    assert r.stdout == "", r.stdout
    assert r.stderr.startswith("error: ") and r.stderr.endswith("\n"), r.stderr
    assert r.stderr.count("\n") == 1, r.stderr
    assert "internal error" not in r.stderr, r.stderr
    return None


# -- hostile values --------------------------------------------------------------------------
SPECIAL_FLOATS = [math.nan, math.inf, -math.inf, -1.0, 0.0, -0.0, 1e-300, 5e-324, 1e300,
                  1.7976931348623157e308, 0.5, 1.0, 2.0, 100.0, 1e9]
SPECIAL_INTS = [-1, 0, 1, 2, 3, 7, 8, 1000, 2**31, 2**63, 10**30]
MARKUP = ["[bold]x[/bold]", "[/x]", "[link=http://e]y[/link]", "[red"]
STRINGS = ["", " ", "\t", "x", "h100-sxm", "llama-3.1-8b", "é", "\x00", "a" * 300, *MARKUP]

hostile_float = st.one_of(st.sampled_from(SPECIAL_FLOATS),
                          st.floats(allow_nan=True, allow_infinity=True))
hostile_int = st.one_of(st.sampled_from(SPECIAL_INTS), st.integers(-10**40, 10**40))
hostile_scalar = st.one_of(hostile_float, hostile_int, st.sampled_from(STRINGS), st.booleans())
hostile_value = st.one_of(
    hostile_scalar, st.lists(hostile_scalar, max_size=3),
    st.dictionaries(st.sampled_from(["x", "input", "name", "[bold]"]), hostile_scalar, max_size=2))


def cli_text(v: Any) -> str:
    """How a value is typed on a command line."""
    return repr(v) if isinstance(v, float) and math.isfinite(v) else str(v)


cli_number = st.one_of(hostile_float.map(cli_text), hostile_int.map(str),
                       st.sampled_from(["abc", "", "1e", "0x10", "١٢"]))


# -- target 1: workload TOML files mutated from the shipped examples -------------------------
EXAMPLES = [tomllib.loads((REPO / "examples" / f).read_text())
            for f in ("chat-assistant.toml", "math-tutor-reasoning.toml",
                      "batch-summarisation.toml")]


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a TOML basic string, or invalid TOML (also fine)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    return json.dumps(str(v))


def to_toml(doc: dict[str, Any]) -> str:
    return "".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in doc.items())


def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, prefix + (i,))
    return out


@st.composite
def mutated_workloads(draw: st.DrawFn) -> str:
    doc = json.loads(json.dumps(draw(st.sampled_from(EXAMPLES))))  # a deep copy
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        *parents, last = path
        node = doc
        for p in parents:
            node = node[p]
        action = draw(st.sampled_from(["replace", "replace", "replace", "delete", "add"]))
        if action == "delete":
            del node[last]
        elif action == "add" and isinstance(node, dict):
            node[draw(st.sampled_from(["typo_key", "[bold]", "", "gpus"]))] = draw(hostile_value)
        else:
            node[last] = draw(hostile_value)
    return to_toml(doc)


@examples(300)
@given(text=st.one_of(mutated_workloads(), st.sampled_from(["", "\x00\xff", "name = 1"]),
                      st.binary(max_size=40).map(lambda b: b.decode("latin-1"))))
def test_any_workload_file_gives_a_result_or_one_error_line(cli, tmp_path, text):
    path = tmp_path / "w.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    doc = check_outcome(cli("compare", str(path), "--json"))
    if doc is not None:
        for o in doc["options"]:
            if o["excluded"] is None:
                assert o["usd_per_task"] >= 0 and o["usd_per_month"] >= 0, o
            else:  # an excluded option's $ is unbounded: null, never Infinity
                assert o["usd_per_task"] is None or o["usd_per_task"] >= 0


# plan and forecast read the same files: a workload compare refuses, they refuse in one line too,
# and one compare takes, they price with finite figures (plan's search is cut to one GPU and one
# precision to keep it fast; it once printed 300-digit replica counts for a typo'd exponent).
@examples(100)
@given(text=mutated_workloads())
def test_any_workload_file_plans_or_gives_one_error_line(cli, tmp_path, text):
    path = tmp_path / "w.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    check_outcome(cli("plan", str(path), "--gpus", "l40s", "--precisions", "fp8", "--max-batch", "64",
                      "--quiet", "--json"))


@examples(150)
@given(text=mutated_workloads())
def test_any_workload_file_forecasts_or_gives_one_error_line(cli, tmp_path, text):
    path = tmp_path / "w.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    check_outcome(cli("forecast", str(path), "--json"))


# route simulate's prices: any $ per task, and offers with any tokens per task, on the shipped
# RouteLLM outcomes (1,319 questions: sums over them once overflowed at $1e308 per task)
ROUTE_CSV = str(REPO / "examples" / "routellm-gsm8k" / "outcomes.csv")


@examples(100)
@given(cheap=cli_number, strong=cli_number, tokens_in=cli_number, tokens_out=cli_number,
       priced=st.sampled_from(["usd", "offer"]))
@example(cheap="1e308", strong="1", tokens_in="1", tokens_out="1", priced="usd")
@example(cheap="1", strong="1", tokens_in="1e300", tokens_out="1e300", priced="offer")
def test_any_route_prices_give_a_result_or_one_error_line(cli, cheap, strong, tokens_in, tokens_out, priced):
    args = ["route", "simulate", ROUTE_CSV, "--usd-per-task", f"gpt-4={strong}", "--json"]
    if priced == "usd":
        args += ["--usd-per-task", f"mixtral={cheap}"]
    else:
        args += ["--offer", "mixtral=openai/gpt-4o-mini", "--tokens", f"mixtral={tokens_in}:{tokens_out}"]
    check_outcome(cli(*args))


# calibrate's measured points: any numbers in a points CSV either fit (and, with --json, print
# strict JSON) or are refused in one line (a concurrency of 1e300 once ran into a NaN in the fit)
@examples(40)
@given(row=st.tuples(cli_number, cli_number, cli_number, cli_number, cli_number))
def test_any_measured_points_calibrate_or_give_one_error_line(cli, tmp_path_factory, row):
    f = tmp_path_factory.mktemp("points") / "p.csv"
    f.write_text("concurrency,isl,osl,output_tokens_per_s,tpot_s\n8,512,128,700,0.011\n" + ",".join(row) + "\n")
    check_outcome(cli("calibrate", "--points", str(f), "--model", "llama-3.1-8b", "--gpu", "h100-sxm",
                      "--name", "prop", "--force", "--quiet", "--json"))  # --force: saved over the last


# usage logs: any values in a row either import (or are counted as skipped), and what was
# imported re-prices and budgets to strict JSON, or one error line
TIMESTAMPS = ["2025-03-01T00:28:55Z", "2025-03-01T00:28:55", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
              "1970-01-01T00:00:00Z", "2025-02-30T00:00:00Z", "", "yesterday", "1740787200"]


@examples(60)
@given(ts=st.lists(st.sampled_from(TIMESTAMPS), min_size=1, max_size=3),
       model=st.sampled_from(["gpt-4o-mini", "gpt-4o", "", "nope/unknown", "[bold]x"]),
       numbers=st.tuples(cli_number, cli_number, cli_number, cli_number),
       reprice=st.sampled_from([("--as", "openai/gpt-4.1-mini,llama-3.1-8b@h100-sxm"),
                                ("--as", "openai/gpt-4.1-mini", "--utilisation", "1e-300"),
                                ("--as", "llama-3.1-8b@h100-sxm", "--ttft", "1e-300", "--tpot", "1e300")]))
def test_any_usage_log_imports_reprices_and_budgets_or_gives_one_error_line(cli, tmp_path_factory, ts, model,
                                                                             numbers, reprice):
    d = tmp_path_factory.mktemp("usage")
    log, db = d / "log.csv", str(d / "store.duckdb")
    log.write_text("timestamp,model,input_tokens,output_tokens,cached_tokens,reasoning_tokens\n"
                   + "".join(f"{t},{model},{','.join(numbers)}\n" for t in ts))
    if check_outcome(cli("usage", "import", str(log), "--db", db, "--json", "--quiet")) is None:
        return
    check_outcome(cli("usage", "reprice", *reprice, "--db", db, "--json"))
    check_outcome(cli("usage", "budget", "--monthly", "100", "--db", db, "--json"))


# -- target 2: estimate's flags ----------------------------------------------------------------
@examples(300)
@given(flags=st.fixed_dictionaries({}, optional={
    "--isl": cli_number, "--osl": cli_number, "--tp": cli_number, "--concurrency": cli_number,
    "--rate": cli_number, "--batch": cli_number, "--context": cli_number,
    "--precision": st.sampled_from(["bf16", "fp8", "int4", "FP8", "fp6", ""]),
    "--kv-dtype": st.sampled_from(["fp8", "BF16", "int4", "x", "", "[b]"]),
    "--engine": st.sampled_from(["tuned", "vllm", "", "nope", "/", "[x]"]),
}), model=st.sampled_from(["llama-3.1-8b", "llama-3.1-70b", "mixtral-8x7b", "deepseek-v3", "",
                           "[bold]"]),
   gpu=st.sampled_from(["h100-sxm", "a10g", "mi300x", "", " ", "[/x]"]))
def test_any_estimate_flags_give_a_result_or_one_error_line(cli, flags, model, gpu):
    args = ["estimate", "--model", model, "--gpu", gpu, "--json"]
    for k, v in flags.items():
        args += [k, v]
    doc = check_outcome(cli(*args))
    if doc is not None:
        assert doc["output_tokens_per_s"] >= 0 and doc["decode_step_s"] > 0


# -- target 3: train and its helpers -------------------------------------------------------------
TRAIN_FLAGS = ["--tokens", "--params-total", "--params-active", "--gpus", "--mfu",
               "--usd-per-gpu-hour", "--usd-per-kwh", "--pue", "--grid", "--rnd-multiplier",
               "--seq-len"]


@examples(300)
@given(flags=st.dictionaries(st.sampled_from(TRAIN_FLAGS), cli_number, max_size=5),
       model=st.sampled_from([None, "llama-3.1-8b", "deepseek-v3", ""]),
       gpu=st.sampled_from([None, "h100-sxm", "a100-80gb", "l4", "", "[b]"]),
       precision=st.sampled_from([None, "bf16", "fp8", "FP8"]),
       basis=st.sampled_from([None, "rent", "own"]),
       helper=st.sampled_from([None, None, "chinchilla", "implied-mfu", "trend"]),
       helper_numbers=st.lists(cli_number, min_size=3, max_size=3))
def test_any_train_flags_give_a_result_or_one_error_line(cli, flags, model, gpu, precision,
                                                         basis, helper, helper_numbers):
    a, b, c = helper_numbers
    if helper == "chinchilla":
        args = ["train", "chinchilla", "--flops", a, "--tokens-per-param", b]
    elif helper == "implied-mfu":
        args = ["train", "implied-mfu", "--gpu-hours", a, "--tokens", b, "--params-total", c]
    elif helper == "trend":
        args = ["train", "trend", "--base-usd", a, "--base-year", "2023", "--to-year", b, "--growth", c]
    else:
        args = ["train"] + [x for k, v in flags.items() for x in (k, v)]
        for flag, value in (("--model", model), ("--gpu", gpu), ("--precision", precision),
                            ("--basis", basis)):
            if value is not None:
                args += [flag, value]
    doc = check_outcome(cli(*args, "--json"))
    if doc is not None and helper is None:
        assert doc["usd"] >= 0 and doc["usd_with_rnd"] >= doc["usd"]


# -- target 4: bench's flags against the scripted server -----------------------------------------
# Valid values are drawn where a run stays short (a rate of 20+ req/s for a few requests, a
# duration under a second); every other value is hostile and must be refused up front.
def _or(hostile: list[Any], valid: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.sampled_from(hostile), valid.map(cli_text))


BENCH_FLAGS = {
    "--rate": _or(["nan", "inf", "-1", "0", "1e-9", "1e12", "abc"], st.floats(20, 1e5)),
    "--requests": _or(["0", "-1", "10000000", "abc", ""], st.integers(1, 5)),
    "--duration-s": _or(["nan", "inf", "0", "-1", "1e9"], st.floats(0.05, 0.3)),
    "--concurrency": _or(["0", "-1", "1,x", "", "100000", "1,,2"], st.integers(1, 4)),
    "--timeout-s": _or(["nan", "inf", "0", "-1"], st.sampled_from([1e-6, 0.01, 5.0])),
    "--warmup": _or(["-1", "10000000", "x"], st.integers(0, 2)),
    "--drain": _or(["-1", "10000000"], st.integers(0, 2)),
    "--max-error-rate": _or(["nan", "-0.1", "2", "inf"], st.floats(0, 1)),
    "--isl": st.sampled_from(["8", "4-12", "8:2", "8:inf", "0", "-5", "9999999999", "x", "8-4"]),
    "--osl": st.sampled_from(["2", "1-3", "2:1", "nan", "0", "2:-1", ""]),
    "--max-connections": _or(["0", "-1", "70000"], st.integers(1, 8)),
    "--max-response-bytes": _or(["0", "10", "-1", "1e9", "x"], st.sampled_from([1024, 10**9])),
    "--usd-per-gpu-hour": _or(["nan", "inf", "0", "-2"], st.floats(0.01, 100)),
    "--gpus": _or(["0", "-1", "x"], st.integers(1, 8)),
    "--slo": st.sampled_from(["ttft_p95=1s", "ttft_p95=nanms", "itl_p999=1ms", "x=1s",
                              "ttft_p95=" + "9" * 400 + "s", ""]),
    "--seed": _or(["-1", "x"], st.integers(0, 2**40)),
}


@pytest.fixture(scope="module")
def server():
    with FakeServer(record=False) as s:
        yield s


@examples(200)
@given(flags=st.dictionaries(st.sampled_from(sorted(BENCH_FLAGS)), st.none(), max_size=4)
       .flatmap(lambda d: st.fixed_dictionaries({k: BENCH_FLAGS[k] for k in d})),
       script=st.sampled_from(["fast", "fast", "429", "malformed", "no-usage"]),
       gpu=st.sampled_from([None, "h100-sxm", ""]))
def test_any_bench_flags_give_a_result_or_one_error_line(cli, server, flags, script, gpu):
    args = ["bench", server.url(script), "--model", MODEL, "--json", "--quiet"]  # stderr: notes and errors only
    if "--requests" not in flags and "--duration-s" not in flags:
        args += ["--requests", "3"]
    if "--rate" in flags and "--concurrency" in flags:
        del flags["--concurrency"]
    for k, v in flags.items():
        args += [k, v]
    if gpu is not None:
        args += ["--gpu", gpu]
    doc = check_outcome(cli(*args))
    if doc is not None:
        for p in doc["points"]:
            cost = p["cost"]
            assert cost is None or all(v is None or v >= 0 for k, v in cost.items()
                                       if k.startswith("usd"))


def test_the_json_check_can_fail():
    """The oracle is not vacuous: NaN, two lines, or a traceback are caught."""
    class R:
        code, stdout, stderr = 0, '{"x": NaN}', ""
    with pytest.raises(AssertionError):
        check_outcome(R())
    R.code, R.stdout, R.stderr = 1, "", "error: a\nerror: b\n"
    with pytest.raises(AssertionError):
        check_outcome(R())
    R.stderr = "error: internal error (KeyError: 'x'); this is a bug\n"
    with pytest.raises(AssertionError):
        check_outcome(R())


def test_mutations_write_valid_toml_for_the_examples_themselves():
    for doc in EXAMPLES:
        assert tomllib.loads(to_toml(doc)) == doc
    assert Path(REPO / "examples").is_dir()
