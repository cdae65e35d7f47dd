"""`truecost plan` from the CLI: an 80-column table, strict JSON, and each user error as one exact
line on stderr with exit status 1."""

import json

import pytest

from .. import handmade
from ..conftest import REPO


@pytest.fixture
def hand(tmp_path):
    return handmade.write(tmp_path)


def _args(paths, *extra):
    return ("plan", str(paths["workload"]), "--gpus", str(paths["gpu"]), "--engines", str(paths["engine"]),
            "--precisions", "bf16", "--max-batch", "4,16", "--quiet", *extra)


def test_plan_table_fits_80_columns(cli, hand, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    r = cli(*_args(hand))
    assert r.code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert max(len(x) for x in lines) <= 80
    assert lines[0] == "hand: peak 20 req/s; SLO tpot mean <= 8 ms"
    assert lines[1] == "searched 2 configurations: 2 fit in memory, 2 meet the SLO as steady-state"
    assert any(x.startswith("cheapest: hand-2l @ hand-gpu [1]: ") for x in lines)
    assert any(x.startswith("runner-up, +") for x in lines)
    assert "Pareto frontier: $/task vs TTFT p95 and TPOT p95 (simulated at the peak)" in r.stdout
    assert "price [1]: catalog:tests/handmade.py@2026-01-01" in lines
    assert r.stderr == ""  # --quiet


def test_plan_progress_goes_to_stderr(cli, hand):
    r = cli(*[a for a in _args(hand) if a != "--quiet"], "--json")
    assert r.code == 0
    json.loads(r.stdout)  # stdout stays clean JSON
    assert "screening configurations: 2" in r.stderr and "simulating finalists: 2" in r.stderr


def test_plan_json_is_strict_and_complete(cli, hand):
    r = cli(*_args(hand, "--json"))
    assert r.code == 0, r.stderr

    def no_constants(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    d = json.loads(r.stdout, parse_constant=no_constants)
    assert d["best"]["config"]["max_batch"] == 16 and d["best"]["binding"] == "tpot mean"
    assert d["best"]["option"]["replicas"] >= 2  # the screen's bound (tests/unit/test_plan.py)
    assert d["searched"]["configurations"] == 2 and d["unmet"] is None
    assert [p["config"]["max_batch"] for p in d["options"]] == [16, 4]
    assert d["objectives"] == ["tpot mean <= 8 ms"] and d["ttft_stat"] == "p95"


def test_plan_with_no_option_exits_1_naming_the_binding_slo(cli, tmp_path):
    paths = handmade.write(tmp_path, slo="tpot_p95_s = 0.005")
    r = cli("plan", str(paths["workload"]), "--gpus", str(paths["gpu"]), "--engines", str(paths["engine"]),
            "--precisions", "bf16", "--max-batch", "16", "--quiet")
    assert r.code == 1
    # A request alone decodes 99 tokens at contexts 101..199: 6.9206016 + 0.0008192 × ctx ms each
    # (tests/handmade.py), 7.0434816 ms on average = 1.41 × 5 ms. The replica search starts at
    # ceil(20 / 1.41958) = 15 replicas (one sequence: 1 / (100 × 7.0443008 ms) = 1.41958 req/s),
    # doubles to 960 where 20 / 960 = 0.0208 req/s is below 1/64 of 1.41958, and gives up.
    assert r.stderr == ("error: no option meets the SLO; tpot p95 <= 5 ms binds: the closest miss is hand-2l @ "
                        "hand-gpu: 1x hand-gpu bf16, hand, max batch 16, tpot p95 7.0 ms > 5.0 ms even at 0.0208 req/s "
                        "(1.41x the limit)\n")
    assert r.stdout.startswith("hand: peak 20 req/s; SLO tpot p95 <= 5 ms\n")


@pytest.mark.parametrize("extra, message", [
    (("--slo", "ttft_p95=soon"), "--slo: 'ttft_p95=soon': give a time above zero such as 2s or 80ms"),
    (("--max-batch", "64,lots"), "--max-batch: give whole numbers of sequences separated by commas (e.g. 64,256), "
                                 "got '64,lots'"),
    (("--max-batch", "0"), "--max-batch: give whole numbers of sequences, at least 1 (e.g. 64,256), got 0"),
    (("--gpus", "h100-sxn"), "unknown GPU 'h100-sxn'; did you mean h100-sxm, h100-nvl, h100-pcie?"),
    (("--engines", "tunde"), "unknown engine profile 'tunde'; did you mean tuned?"),
    (("--precisions", "fp6"), "--precisions: unknown precision 'fp6'; choose from bf16, fp16, fp8, int8, int4, "
                              "mxfp4, nvfp4, native"),
    (("--gpus", ","), "--gpus: give at least one GPU (e.g. --gpus h100-sxm,l40s)"),
])
def test_plan_errors_are_one_line(cli, extra, message):
    r = cli("plan", str(REPO / "examples" / "chat-assistant.toml"), "--quiet", *extra)
    assert r.code == 1
    assert r.stderr == f"error: {message}\n"


def test_plan_missing_workload_is_one_line(cli, tmp_path):
    r = cli("plan", str(tmp_path / "nope.toml"))
    assert r.code == 1 and r.stderr == f"error: {tmp_path / 'nope.toml'}: file not found\n"


def test_plan_searches_a_saved_calibrated_engine_by_name(cli, hand, tmp_path):
    # `truecost calibrate` saves profiles under $TRUECOST_HOME/engines/<name>.toml (conftest points
    # TRUECOST_HOME at a temporary directory); --engines names them like shipped ones.
    import os
    from pathlib import Path

    saved = Path(os.environ["TRUECOST_HOME"]) / "engines"
    saved.mkdir(parents=True, exist_ok=True)
    (saved / "handcal.toml").write_text(hand["engine"].read_text().replace('["hand"]', '["handcal"]'))
    r = cli("plan", str(hand["workload"]), "--gpus", str(hand["gpu"]), "--engines", "handcal,tuned",
            "--precisions", "bf16", "--max-batch", "16", "--quiet", "--json")
    assert r.code == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["best"]["config"]["engine"] == "handcal"
    assert "engines handcal, tuned" in " ".join(d["assumptions"])


def test_a_free_best_option_gives_the_runner_up_in_dollars(cli, hand, monkeypatch):
    # An API at $0 per token (a free tier) is the cheapest; the runner-up's "+x%" over $0 has no
    # value, so it is given as dollars more per task.
    monkeypatch.setenv("COLUMNS", "80")
    offers = hand["workload"].parent / "free.toml"
    offers.write_text('["free/model"]\nusd_per_mtok_input = 0.0\nusd_per_mtok_output = 0.0\n'
                      'source = "a free tier"\nas_of = 2026-01-01\n')
    hand["workload"].write_text(hand["workload"].read_text().replace(
        'name = "hand"\n', f'name = "hand"\noffers_file = "{offers.as_posix()}"\n')
        + '[[api]]\noffer = "free/model"\n')
    r = cli(*_args(hand))
    assert r.code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "cheapest: free/model: API, $0/task, $0/month; latency not modelled" in lines
    runner = next(x for x in lines if x.startswith("runner-up, "))
    assert runner.startswith("runner-up, +$") and "/task: hand-2l @ hand-gpu [1]: " in runner
