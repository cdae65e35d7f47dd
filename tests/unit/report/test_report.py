"""``truecost.report``: each view's table carries the numbers of the result it lays out, the page
is self-contained and escapes what users write, and bad inputs are one-line errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.fakeserver import MODEL
from truecost import compare, estimate, load_run, run_bench, train_cost, validate
from truecost.errors import CatalogError, InputError, UnknownNameError
from truecost.perf.calibrate import calibrate, points_from_runs, save_profile
from truecost.report import report
from truecost.report.compare import pareto_front
from truecost.report.view import kinds

from .page import at, read_page

REPO = Path(__file__).resolve().parents[3]
CHAT = REPO / "examples" / "chat-assistant.toml"
MATH = REPO / "examples" / "math-tutor-reasoning.toml"


def test_pareto_front_by_hand():
    pts = [(1, 0.5), (2, 0.9), (3, 0.8), (0.5, 0.5), (4, 0.95)]
    # by cost: 0.5 (0.5 *), 1 (0.5, no better), 2 (0.9 *), 3 (0.8, dominated by 2), 4 (0.95 *)
    assert pareto_front(pts) == [3, 1, 4]
    assert pareto_front([]) == []


def test_views_are_registered_per_result_kind():
    assert {"comparison", "bench", "train", "validation"} <= set(kinds())


def test_cost_table_carries_the_comparisons_numbers():
    r = report(workload=[CHAT])
    page = read_page(r.html)
    expected = compare(CHAT).to_dict()
    cells = page.cells["compare-1-cost"]
    ranked = [o for o in expected["options"] if o["excluded"] is None]
    assert list(cells) == [o["label"] for o in ranked]
    for o in ranked:
        for key in ("usd_per_task", "usd_per_month", "usd_per_mtok_input", "usd_per_mtok_output"):
            assert cells[o["label"]][key] == o[key]
        assert cells[o["label"]].get("gpus") == o["gpus"]
    # the text a reader sees is the CLI's rendering of the same number
    row = page.texts["compare-1-cost"]["openai/gpt-4o-mini"]
    assert (row["usd_per_task"], row["ttft_s"], row["gpus"]) == ("$0.00036", "-", "-")
    # no option of this workload has an accuracy: no accuracy view
    assert [s.key for s in r.sections] == ["compare-1-cost"]
    (doc,) = page.json["compare-1-cost"].values()
    assert doc["options"][0]["label"] == ranked[0]["label"]


def test_accuracy_view_marks_the_pareto_front():
    r = report(workload=MATH)
    page = read_page(r.html)
    c = compare(MATH)
    scored = sorted((o for o in c.options if o.accuracy is not None), key=lambda o: o.usd_per_task)
    rows = page.texts["compare-1-accuracy"]
    # every candidate of this example is 100% accurate, so the cheapest alone is on the front
    assert [rows[o.label]["pareto"] for o in scored] == ["yes"] + ["no"] * (len(scored) - 1)
    for o in scored:
        assert page.cells["compare-1-accuracy"][o.label]["accuracy"] == o.accuracy


def test_page_is_self_contained_and_states_version_date_and_commands():
    import truecost

    r = report(workload=[CHAT], validate="training")
    page = read_page(r.html)
    assert [u for u in page.urls if not u.startswith("#")] == []
    assert not re.search(r"url\(|@import|https?://[^\s\"<]*\.(js|css|woff2?)", r.html)
    assert "Content-Security-Policy\" content=\"default-src 'none';" in r.html
    assert f"truecost {truecost.__version__}, generated 20" in r.html
    assert r.command == f"truecost report --workload {CHAT} --validate training"
    for cmd in (r.command, f"truecost compare {CHAT} --json", "truecost validate training --json"):
        assert cmd in r.html


def test_what_users_write_is_escaped(tmp_path):
    evil = '</script><script>alert("x")</script><b>'
    w = tmp_path / "w.toml"
    w.write_text(f'name = "{evil.replace(chr(34), chr(92) + chr(34))}"\ntasks_per_day = 1000\n'
                 f'[tokens]\ninput = 100\noutput = 10\n'
                 f'[[api]]\noffer = "openai/gpt-4o-mini"\nlabel = "@@BODY@@ {evil.replace(chr(34), chr(92) + chr(34))}"\n')
    r = report(workload=w)
    assert "<script>alert" not in r.html and "<b>" not in r.html
    assert r.html.count("<script>") == 1  # the page's own hover script
    page = read_page(r.html)
    (doc,) = page.json["compare-1-cost"].values()
    assert doc["options"][0]["label"] == "@@BODY@@ " + evil  # intact inside the JSON


@pytest.fixture
def stored_run(fake):
    return run_bench(fake.url("fast"), MODEL, concurrency=[1, 3], requests=12, isl=16, osl=4,
                     gpu="h100-sxm", gpus=1)


def test_bench_views_carry_the_runs_numbers_and_the_models_prediction(stored_run):
    run_id = stored_run.run_id
    r = report(run_id, model="llama-3.1-8b")
    page = read_page(r.html)
    # what `truecost runs show RUN --json` prints
    shown = json.loads(json.dumps(load_run(run_id).to_dict(), default=str))
    thr = page.cells["run-1-throughput"]
    for i, p in enumerate(shown["points"]):
        for key in ("summary.output_token_throughput", "summary.ttft.p50", "summary.ttft.p95",
                    "summary.tpot.p50"):
            assert thr[p["label"]][key] == at(shown, f"points.{i}.{key}")
        # the prediction: estimate() for the same model and GPU at the point's load and tokens
        tok = p["summary"]["tokens"]
        e = estimate("llama-3.1-8b", "h100-sxm", concurrency=p["concurrency"],
                     isl=round(tok["input_mean"]), osl=round(tok["output_mean"]))
        assert thr[p["label"]]["prediction[0].output_tokens_per_s"] == e.output_tokens_per_s
        assert thr[p["label"]]["prediction[0].ttft_s"] == e.ttft_s
    lat = page.cells["run-1-latency"]
    for i, p in enumerate(shown["points"]):
        for m in ("ttft", "itl"):
            for q in (50, 90, 95, 99):
                assert lat[p["label"]][f"summary.{m}.p{q}"] == at(shown, f"points.{i}.summary.{m}.p{q}")
    assert page.json["run-1-throughput"][f"truecost runs show {run_id} --json"] == shown


def test_cdfs_hold_every_measured_request(stored_run):
    from truecost.report.bench import latencies
    from truecost.store import Store

    with Store() as s:
        records = s.requests(stored_run.run_id)
    lat = latencies(stored_run, records)
    for p in stored_run.points:  # warm-up and drain left out, exactly as in the summary
        assert len(lat[p.index][0]) == p.summary.ttft.n
        assert len(lat[p.index][1]) == p.summary.itl.n


def test_a_profile_calibrated_on_the_run_joins_the_prediction(stored_run):
    pts = points_from_runs([stored_run.run_id])
    save_profile(calibrate(pts, "llama-3.1-8b", "h100-sxm", name="cal-on-run", force=True).profile)
    r = report(stored_run.run_id, model="llama-3.1-8b")
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", r.html)
    assert "TTFT (model: tuned)" in headers and "TTFT (model: cal-on-run (calibrated))" in headers


def test_a_run_of_a_model_the_catalog_lacks_says_so(stored_run):
    r = report(stored_run.run_id)
    (thr, _lat) = r.sections
    assert thr.notes == (f"no model prediction: '{MODEL}' is not a catalog model; give the report "
                         f"--model NAME (a catalog name, config.json or TOML) for the served model",)
    assert "prediction[0]" not in r.html


def test_train_view_carries_the_estimates_figures(tmp_path):
    args = tmp_path / "train.toml"
    args.write_text('model = "llama-3.1-70b"\ntokens = 15e12\ngpus = 16384\n')
    r = report(train=args)
    page = read_page(r.html)
    est = train_cost("llama-3.1-70b", tokens=15e12, gpus=16384).to_dict()
    cells = page.cells["train-train"]
    for key in ("usd_rent", "usd_own", "gpu_hours", "energy_mwh", "co2_t", "flops"):
        assert cells[key]["final_run"] == est["final_run"][key]["value"]
        assert cells[key]["with_rnd"] == est["with_rnd"][key]["value"]
    assert page.texts["train-train"]["usd_rent"]["final_run"] == "$13,325,979"
    assert page.json["train-train"] == {
        "truecost train --model llama-3.1-70b --tokens 1.5e+13 --gpus 16384 --json": est}


def test_validation_view_carries_every_row():
    r = report(validate=["serving"])
    page = read_page(r.html)
    v = validate("serving").to_dict()
    cells = page.cells["validate-serving-validation"]
    assert list(cells) == [row["id"] for row in v["rows"]]
    for row in v["rows"]:
        assert (cells[row["id"]]["published"], cells[row["id"]]["error"]) == (row["published"], row["error"])


def test_bad_inputs_are_one_line(tmp_path):
    with pytest.raises(InputError, match="^nothing to report: give bench or eval run ids, "):
        report()
    with pytest.raises(UnknownNameError, match="^unknown run 'nope'"):
        report("nope")
    bad = tmp_path / "t.toml"
    bad.write_text('model = "llama-3.1-8b"\ntokenz = 1e12\n')
    with pytest.raises(CatalogError) as e:
        report(train=bad)
    assert str(e.value) in (f"{bad}: unknown key 'tokenz'", f"{bad}: missing key 'tokens'")
    bad.write_text('model = "llama-3.1-8b"\ntokens = -1\n')
    with pytest.raises(CatalogError, match=r"t.toml: tokens: Input should be greater than 0$"):
        report(train=bad)
    with pytest.raises(InputError, match="^cannot write .*: the folder .*nowhere does not exist$"):
        report(workload=CHAT, output=tmp_path / "nowhere" / "r.html")
