import json

from truecost.perf.engine import engine
from truecost.perf.serving import make_deployment, operating_point


def test_calibrate_from_csv_then_estimate_with_it(cli, tmp_path):
    truth = engine("tuned").model_copy(update={"memory_efficiency": 0.6, "step_overhead_per_layer_s": 0.00012})
    dep = make_deployment("llama-3.1-8b", "h100-sxm", "bf16", 1, truth)
    lines = ["concurrency,isl,osl,output_tokens_per_s,tpot_s,source"]
    for c in (1, 8, 64):
        op = operating_point(dep, c, 512, 128)
        lines.append(f"{c},512,128,{op.output_tokens_per_s},{op.tpot_s},run{c}")
    f = tmp_path / "points.csv"
    f.write_text("\n".join(lines) + "\n")
    r = cli("calibrate", "--points", str(f), "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--name", "mine", "--json")
    assert r.code == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["rms_log_error_after"] < 0.01 < d["rms_log_error_before"]
    r = cli("estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--engine", "mine", "--isl", "512",
            "--osl", "128", "--concurrency", "8", "--json")
    assert r.code == 0, r.stderr
    e = json.loads(r.stdout)
    assert e["engine"] == "mine" and "fitted" in e["provenance"]
    assert abs(e["output_tokens_per_s"] / operating_point(dep, 8, 512, 128).output_tokens_per_s - 1) < 0.02


def test_calibrate_bad_file(cli, tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("concurrency,isl\n1,2\n")
    r = cli("calibrate", "--points", str(f), "--model", "llama-3.1-8b", "--gpu", "h100-sxm")
    assert (r.code, r.stderr.strip()) == (1, f"error: {f}: needs the columns concurrency, isl and one of "
                                             "output_tokens_per_s, tpot_s, ttft_s, step_s; missing a measured figure")


def test_calibrate_from_stored_runs(cli, tmp_path):
    """Points written by the store's own API are read back and fitted."""
    from truecost.store import Store

    truth = engine("tuned").model_copy(update={"memory_efficiency": 0.5})
    dep = make_deployment("llama-3.1-8b", "h100-sxm", "bf16", 1, truth)
    with Store() as s:
        s.add_run({"run_id": "r1", "started_at": 0.0, "status": "done", "model": "meta-llama/Llama-3.1-8B-Instruct",
                    "mode": "concurrency"})
        for i, c in enumerate((1, 16, 128)):
            op = operating_point(dep, c, 256, 64)
            s.add_point({"run_id": "r1", "point": i, "mode": "concurrency", "concurrency": c,
                         "output_token_throughput": op.output_tokens_per_s, "isl_mean": 256.0, "osl_mean": 64.0,
                         "tpot_p50": op.tpot_s})
    r = cli("calibrate", "r1", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--json")
    assert r.code == 0, r.stderr
    d = json.loads(r.stdout)
    assert [p["source"] for p in d["points"]] == ["r1#0", "r1#1", "r1#2"]
    assert d["rms_log_error_after"] < 0.01
    r = cli("calibrate", "nope", "--model", "llama-3.1-8b", "--gpu", "h100-sxm")
    assert r.code == 1 and r.stderr.startswith("error: unknown run 'nope'")
    r = cli("calibrate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm")
    assert r.stderr.strip() == "error: give stored run ids (truecost calibrate RUN...) or --points FILE.csv, one of the two"
