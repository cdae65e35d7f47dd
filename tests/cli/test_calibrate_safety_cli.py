"""`truecost calibrate` refuses to mislead and never clobbers a profile: each refusal is one line,
asserted verbatim."""

import json

import pytest

from truecost.perf.engine import engine
from truecost.perf.serving import make_deployment, operating_point

HEADER = "concurrency,isl,osl,output_tokens_per_s,tpot_s,source"


def _csv(tmp_path, *lines, name="p.csv"):
    f = tmp_path / name
    f.write_text("\n".join(lines) + "\n")
    return f


def _good(tmp_path):
    truth = engine("tuned").model_copy(update={"memory_efficiency": 0.6, "step_overhead_per_layer_s": 0.00012})
    dep = make_deployment("llama-3.1-8b", "h100-sxm", "bf16", 1, truth)
    rows = [HEADER]
    for c in (1, 8, 64):
        op = operating_point(dep, c, 512, 128)
        rows.append(f"{c},512,128,{op.output_tokens_per_s},{op.tpot_s},run{c}")
    return _csv(tmp_path, *rows, name="good.csv")


ARGS = ("--model", "llama-3.1-8b", "--gpu", "h100-sxm")


@pytest.mark.parametrize("row, message", [
    ("1,512,128,nan,0.01,a", "{f}:2: output_tokens_per_s must be a finite number > 0, got nan"),
    ("inf,512,128,100,0.01,a", "{f}:2: concurrency must be a finite number > 0, got inf"),
    ("1,512,128,-5,,a", "{f}:2: output_tokens_per_s must be a finite number > 0, got -5"),
    ("1,512", "{f}:2: has 2 fields, the header has 6"),
    ("1,512.5,128,100,,a", "{f}:2: isl must be a whole number of tokens, got 512.5"),
    ("1,512,128,,,a", "{f}:2: no measured figure (output_tokens_per_s, tpot_s, ttft_s, step_s)"),
    ("one,512,128,100,,a", "{f}:2: concurrency 'one' is not a number"),
    ("1e300,512,128,100,0.01,a", "measured point a: concurrency must be a number of live sequences above 0 and "
                                 "at most 1,000,000, got 1e+300"),  # once a NaN deep in the fit
    ("1,1e300,128,100,0.01,a", "measured point a: isl and osl must be from 1 to 10,000,000 tokens, got 1e+300 "
                               "and 128"),  # once an OverflowError deep in the fit
])
def test_bad_rows_are_one_line(cli, tmp_path, row, message):
    f = _csv(tmp_path, HEADER, row)
    r = cli("calibrate", "--points", str(f), *ARGS)
    assert (r.code, r.stderr.strip()) == (1, "error: " + message.format(f=f))


def test_unknown_column_and_empty_file(cli, tmp_path):
    f = _csv(tmp_path, "concurrency,isl,tokens_per_s", "1,512,100")
    r = cli("calibrate", "--points", str(f), *ARGS)
    assert r.stderr.strip() == (f"error: {f}: needs the columns concurrency, isl and one of output_tokens_per_s, "
                                "tpot_s, ttft_s, step_s; missing a measured figure")
    f = _csv(tmp_path, HEADER)
    r = cli("calibrate", "--points", str(f), *ARGS)
    assert r.stderr.strip() == f"error: {f}: no measured points (only a header)"
    r = cli("calibrate", "--points", str(tmp_path), *ARGS)
    assert r.stderr.strip() == f"error: {tmp_path}: not a regular file"


def test_engine_names_are_plain_and_never_shadowed_or_overwritten(cli, tmp_path):
    f = _good(tmp_path)
    r = cli("calibrate", "--points", str(f), *ARGS, "--name", "tuned")
    assert (r.code, r.stderr.strip()) == (1, "error: engine name 'tuned' is a shipped profile and would be "
                                             "shadowed by it; choose another --name")
    r = cli("calibrate", "--points", str(f), *ARGS, "--name", "../../x")
    assert r.stderr.strip() == ("error: engine name '../../x' is not a plain identifier; use letters, digits, "
                                "'.', '_' and '-' (at most 64, no path separators)")
    r = cli("calibrate", "--points", str(f), *ARGS, "--name", "mine")
    assert r.code == 0, r.stderr
    saved = tmp_path / "truecost-home" / "engines" / "mine.toml"
    first = saved.read_text()
    r = cli("calibrate", "--points", str(f), *ARGS, "--name", "mine")
    assert (r.code, r.stderr.strip()) == (1, f"error: engine profile 'mine' exists at {saved}; pass --force to "
                                             "overwrite it or choose another --name")
    assert saved.read_text() == first  # nothing lost
    r = cli("calibrate", "--points", str(f), *ARGS, "--name", "mine", "--force")
    assert r.code == 0, r.stderr


def test_refuses_a_fit_at_its_bound_and_saves_it_with_force(cli, tmp_path):
    # 8B bf16 at 1 ms per token would stream 16 GB in 1 ms: faster than the H100's HBM.
    f = _csv(tmp_path, HEADER, "1,512,128,,0.001,a", "8,512,128,,0.0012,b", "64,512,128,,0.002,c")
    r = cli("calibrate", "--points", str(f), *ARGS, "--name", "fast")
    assert (r.code, r.stderr.strip()) == (1, (
        "error: calibrate refuses to save 'fast': memory_efficiency 1 sits at its upper bound 1; "
        "step_overhead_per_layer_s 0 sits at its lower bound 0; compute_efficiency.bf16 1 sits at its upper "
        "bound 1; rms log error stays 1.35 after the fit (> 0.25): the model does not explain these points; "
        "check --model/--gpu/--precision/--tp or pass --force to save anyway"))
    assert not (tmp_path / "truecost-home" / "engines" / "fast.toml").exists()
    r = cli("calibrate", "--points", str(f), *ARGS, "--name", "fast", "--force", "--json", "--quiet")
    assert r.code == 0
    assert r.stderr.splitlines()[0] == "warning: memory_efficiency 1 sits at its upper bound 1"
    d = json.loads(r.stdout)
    assert "saved with --force despite: memory_efficiency 1 sits at its upper bound 1" in d["profile"]["calibration"]


def test_refuses_a_run_of_another_model(cli, tmp_path):
    from truecost.store import Store

    dep = make_deployment("qwen2.5-7b", "h100-sxm", "bf16", 1, "tuned")
    with Store() as s:
        s.add_run({"run_id": "q1", "started_at": 0.0, "status": "done", "model": "Qwen/Qwen2.5-7B-Instruct",
                   "mode": "concurrency"})
        op = operating_point(dep, 4, 256, 64)
        s.add_point({"run_id": "q1", "point": 0, "mode": "concurrency", "concurrency": 4,
                     "output_token_throughput": op.output_tokens_per_s, "isl_mean": 256.0, "osl_mean": 64.0,
                     "tpot_p50": op.tpot_s})
    r = cli("calibrate", "q1", *ARGS)
    assert (r.code, r.stderr.strip()) == (1, (
        "error: calibrate refuses to save 'tuned-llama-3.1-8b-h100-sxm-bf16-tp1': q1#0 measured model "
        "'Qwen/Qwen2.5-7B-Instruct', not llama-3.1-8b; check --model/--gpu/--precision/--tp or pass --force "
        "to save anyway"))
    r = cli("calibrate", "q1", "--model", "qwen2.5-7b", "--gpu", "h100-sxm", "--json")
    assert r.code == 0, r.stderr


def test_several_architectures_report_held_out_error(cli, tmp_path):
    truth = engine("tuned").model_copy(update={"memory_efficiency": 0.7, "step_overhead_per_layer_s": 0.00009})
    rows = ["model,tp,concurrency,isl,osl,tpot_s,source"]
    for model, tp in (("llama-3.1-8b", 1), ("llama-3.1-70b", 4)):
        dep = make_deployment(model, "h100-sxm", "fp8", tp, truth)
        for c in (1, 32):
            rows.append(f"{model},{tp},{c},512,128,{operating_point(dep, c, 512, 128).tpot_s},{model}-{c}")
    f = _csv(tmp_path, *rows)
    r = cli("calibrate", "--points", str(f), "--gpu", "h100-sxm", "--precision", "fp8", "--json")
    assert r.code == 0, r.stderr
    d = json.loads(r.stdout)
    assert set(d["held_out"]) == {"llama-3.1-8b", "llama-3.1-70b"}
    # Same engine on both: what two points of one architecture teach carries over to the other
    # within a few per cent (two points leave some trade-off between η_m and the overhead).
    assert d["held_out_rms_log_error"] < 0.05
    assert d["profile"]["key"] == "tuned-h100-sxm-2models"
