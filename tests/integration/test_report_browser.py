"""The HTML report in a real browser: Debian's Chromium, driven headless by Playwright.

The page is built with ``truecost report`` from the shipped examples (compared, planned and
forecast), a real bench run against llama-server (``conftest.py``), a profile calibrated on that
run, two eval runs against the same server (priced as an H100 and as an API), RouteLLM's GSM8K
outcomes routed, a training estimate and both validation suites. In Chromium it must log no console error, request nothing but itself, draw
every chart with data inside its frame, show provenance on hover, and carry in its tables exactly
the numbers the commands print with ``--json`` (run here through the CLI).

Chromium is looked for at ``$TRUECOST_CHROMIUM``, then ``/usr/bin/chromium``; CI installs it
(``.ci/run``), so there a missing browser fails, and elsewhere it skips. With
``TRUECOST_REPORT_SCREENSHOT=DIR`` the screenshots the README shows are written to DIR
(``docs/``); otherwise to the test's temporary folder.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
from pathlib import Path

import pytest

from truecost.bench import run_bench
from truecost.eval.run import run_eval

from . import tinymodel
from .conftest import missing

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
# read at import: the autouse clean_environ fixture removes TRUECOST_* variables per test
_CHROMIUM = os.environ.get("TRUECOST_CHROMIUM") or "/usr/bin/chromium"
_SCREENSHOT_DIR = os.environ.get("TRUECOST_REPORT_SCREENSHOT")

# Every chart's drawn marks (dots, bars, lines) with their boxes, and the chart's own box.
_MARKS_JS = """() => Array.from(document.querySelectorAll('svg.chart')).map(svg => {
  const frame = svg.getBoundingClientRect();
  const marks = Array.from(svg.querySelectorAll('.mark, .mark-line')).map(m => {
    const r = m.getBoundingClientRect();
    return {x: r.x, y: r.y, w: r.width, h: r.height};
  });
  return {title: svg.getAttribute('aria-label'), section: svg.closest('section').id,
          frame: {x: frame.x, y: frame.y, w: frame.width, h: frame.height}, marks};
})"""

# Every numeric cell: section id -> row id -> column key -> the exact value it shows.
_CELLS_JS = """() => {
  const out = {};
  for (const td of document.querySelectorAll('section td[data-value]')) {
    const s = td.closest('section').id, r = td.closest('tr').dataset.row;
    ((out[s] ??= {})[r] ??= {})[td.dataset.key] = parseFloat(td.dataset.value);
  }
  return out;
}"""


def _tiny_model_toml(path: Path) -> Path:
    """The served model's architecture, for the prediction overlay (tinymodel.py's constants)."""
    vocab = len(tinymodel.vocabulary()[0])
    path.write_text(
        f'name = "tiny-llama (integration test model)"\nlayers = {tinymodel.N_LAYERS}\n'
        f"d_model = {tinymodel.D_MODEL}\nheads = {tinymodel.N_HEADS}\n"
        f"kv_heads = {tinymodel.N_KV_HEADS}\nhead_dim = {tinymodel.D_MODEL // tinymodel.N_HEADS}\n"
        f"d_ff = {tinymodel.D_FF}\nvocab = {vocab}\ntied_embeddings = false\n"
        f'max_context = {tinymodel.CONTEXT}\nsource = "tests/integration/tinymodel.py"\n'
        f"retrieved = 2026-11-25\n")
    return path


@pytest.fixture
def browser():
    if importlib.util.find_spec("playwright") is None:
        missing("the browser test drives Chromium with the 'playwright' package: "
                "pip install -e '.[test]'")
    if not os.access(_CHROMIUM, os.X_OK):
        missing(f"Chromium not found at {_CHROMIUM}: apt-get install chromium (Debian/Ubuntu), "
                f"or set TRUECOST_CHROMIUM to its executable")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=_CHROMIUM)
        try:
            yield b
        finally:
            b.close()


def _json(cli, command: str) -> object:
    r = cli(*shlex.split(command)[1:])
    assert r.code == 0, (command, r.stderr)
    return json.loads(r.stdout)


def _at(doc: object, path: str) -> object:
    for part in path.split("."):
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]  # type: ignore[index]
    return doc


def test_report_in_chromium(llama_server, browser, cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative paths: the commands the page states read as a user's
    (tmp_path / "examples" / "train").mkdir(parents=True)
    examples = []
    (tmp_path / "examples" / "routellm-gsm8k").mkdir()
    for name in ("chat-assistant.toml", "math-tutor-reasoning.toml", "train/llama-3.1-70b.toml",
                 "self-hosted-coding.toml", "routellm-gsm8k/outcomes.csv"):
        (tmp_path / "examples" / name).write_text((REPO / "examples" / name).read_text())
        examples.append(f"examples/{name}")
    outcomes, coding, train = examples.pop(), examples.pop(), examples.pop()
    run = run_bench(llama_server.base_url, llama_server.model, concurrency=[1, 4], requests=24,
                    isl=32, osl=16, seed=5, gpu="h100-sxm", gpus=1)
    model = _tiny_model_toml(Path("tiny-llama.toml"))
    cal = cli("calibrate", run.run_id, "--model", str(model), "--gpu", "h100-sxm", "--name",
              "tiny-cal", "--quiet", "--force")  # a CPU server is no H100: the fit is refused without it
    assert cal.code == 0, cal.stderr
    evals = [run_eval(llama_server.base_url, llama_server.model, "gsm8k-300", limit=4, max_tokens=8,
                      **price).run_id for price in ({"gpu": "h100-sxm"}, {"offer": "openai/gpt-4o-mini"})]
    route = ("--route", outcomes, "--route-offer", "mixtral=mistral/open-mixtral-8x7b", "--route-offer",
             "gpt-4=openai/gpt-4-1106-preview", "--route-tokens", "mixtral=1000:100", "--route-tokens",
             "gpt-4=1000:100")
    r = cli("report", run.run_id, *evals, "--model", str(model), *(a for e in examples for a in
                                                                   ("--workload", e)),
            "--plan", coding, "--plan-gpus", "h100-sxm,l40s", "--forecast", examples[0], *route,
            "--train", train, "--validate", "serving", "--validate", "training",
            "-o", "report.html")
    assert r.code == 0, r.stderr
    out = tmp_path / "report.html"

    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    problems, requests = [], []
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda q: problems.append(f"failed: {q.url}"))
    page.on("request", lambda q: requests.append(q.url))
    page.goto(out.as_uri())
    page.wait_for_load_state("load")

    assert problems == []
    assert requests == [out.as_uri()]  # the page itself, nothing else

    sections = page.eval_on_selector_all("section.view", "els => els.map(e => e.id)")
    assert sections == ["compare-1-cost", "compare-2-cost", "compare-2-accuracy", "plan-1-plan",
                        "forecast-1-forecast", "run-1-throughput", "run-1-latency", "eval-1-eval",
                        "eval-2-eval", "evals-accuracy-cost", "route-route", "train-train",
                        "validate-serving-validation", "validate-training-validation"]

    charts = page.evaluate(_MARKS_JS)
    per_section = {s: sum(c["section"] == s for c in charts) for s in sections}
    assert per_section == {
        "compare-1-cost": 1, "compare-2-cost": 1, "compare-2-accuracy": 1,
        "plan-1-plan": 2, "forecast-1-forecast": 2,  # TTFT and TPOT; monthly cost and break-even
        "run-1-throughput": 2, "run-1-latency": 2,
        "eval-1-eval": 3, "eval-2-eval": 3,  # accuracy, tokens, cost
        "evals-accuracy-cost": 1, "route-route": 2,  # vs cost and vs the share of strong calls
        "train-train": 5, "validate-serving-validation": 1, "validate-training-validation": 1}
    for c in charts:
        f = c["frame"]
        drawn = [m for m in c["marks"] if m["w"] > 0 or m["h"] > 0]
        assert drawn, f"{c['section']}: '{c['title']}' has no data drawn"
        for m in drawn:  # inside the chart's frame (1 px for stroke widths)
            assert f["x"] - 1 <= m["x"] and m["x"] + m["w"] <= f["x"] + f["w"] + 1, c["title"]
            assert f["y"] - 1 <= m["y"] and m["y"] + m["h"] <= f["y"] + f["h"] + 1, c["title"]

    # the throughput chart draws measured points and both predictions (default, calibrated)
    series = page.eval_on_selector_all("#run-1-throughput svg.chart:first-of-type g.series",
                                       "els => els.map(e => e.dataset.series)")
    assert series == ["TTFT p50", "TTFT p95", "TTFT, model, engine 'tuned'",
                      "TTFT, model, engine 'tiny-cal' (calibrated)"]

    # hover shows the figures and where they came from
    page.hover("#compare-1-cost rect.bar")
    tip = page.inner_text("#tip")
    assert page.is_visible("#tip") and "$/month" in tip and "price: catalog:" in tip

    # every JSON document the page embeds is what its command prints (run here through the CLI)
    embedded = page.eval_on_selector_all(
        "script.view-data", "els => els.map(e => [e.dataset.command, JSON.parse(e.textContent)])")
    # a document per view; per point and engine profile (throughput, latency); per compared eval run
    assert len(embedded) == 14 + 2 * 2 * 2 + 1
    for command, doc in embedded:
        assert _json(cli, command) == doc, command

    cells = page.evaluate(_CELLS_JS)
    # compare: every ranked option's figures, as `truecost compare W --json` prints them
    for i, e in enumerate(examples, 1):
        doc = _json(cli, f"truecost compare {e} --json")
        for o in (o for o in doc["options"] if o["excluded"] is None):
            for key in ("usd_per_task", "usd_per_month", "usd_per_mtok_input", "usd_per_mtok_output"):
                assert cells[f"compare-{i}-cost"][o["label"]][key] == o[key]
    # bench: every point's measured figures, as `truecost runs show RUN --json` prints them
    shown = _json(cli, f"truecost runs show {run.run_id} --json")
    for i, p in enumerate(shown["points"]):
        for key in ("summary.output_token_throughput", "summary.ttft.p50", "summary.tpot.p50"):
            assert cells["run-1-throughput"][p["label"]][key] == _at(shown, f"points.{i}.{key}")
        for key in ("summary.ttft.p99", "summary.itl.p50", "summary.itl.p95"):
            assert cells["run-1-latency"][p["label"]][key] == _at(shown, f"points.{i}.{key}")
        e = _json(cli, f"truecost estimate --model {model} --gpu h100-sxm --isl "
                       f"{round(p['summary']['tokens']['input_mean'])} --osl "
                       f"{round(p['summary']['tokens']['output_mean'])} --concurrency "
                       f"{p['concurrency']} --json")
        assert cells["run-1-throughput"][p["label"]]["prediction[0].tpot_s"] == e["tpot_s"]
    # latency: the simulated percentiles of each point's prediction, as `estimate --json` has them
    for p in shown["points"]:
        e = _json(cli, f"truecost estimate --model {model} --gpu h100-sxm --isl "
                       f"{round(p['summary']['tokens']['input_mean'])} --osl "
                       f"{round(p['summary']['tokens']['output_mean'])} --concurrency "
                       f"{p['concurrency']} --json")
        for key in ("ttft.p50", "ttft.p99", "itl.p50"):
            assert cells["run-1-latency"][p["label"]][f"prediction[0].simulation.{key}"] == _at(
                e, f"simulation.{key}")
    # plan, forecast, eval, route: as their commands print them
    pl = _json(cli, f"truecost plan {coding} --gpus h100-sxm,l40s --json")
    for key in ("usd_per_task", "ttft_s", "tpot_s"):  # one row per option, in the plan's order
        assert [v.get(f"option.{key}") for v in cells["plan-1-plan"].values()] == [
            o["option"][key] for o in pl["options"]]
    fc = _json(cli, f"truecost forecast {examples[0]} --json")
    for o in fc["options"]:
        for plan_, months in o["monthly_usd"].items():
            row = cells["forecast-1-forecast"][f"{o['label']} | {plan_}"]
            assert [row[f"month_{m}"] for m in range(1, fc["months"] + 1)] == months
    for i, run_id in enumerate(evals, 1):
        ev = _json(cli, f"truecost runs show {run_id} --json")
        for domain, d in ev["by_domain"].items():
            for key in ("accuracy", "accuracy_ci.1", "tokens_per_task.output", "usd_per_task"):
                assert cells[f"eval-{i}-eval"][domain][key] == _at(d, key)
    ro = _json(cli, "truecost route simulate " + " ".join(route[1:]).replace("--route-", "--") + " --json")
    for p in ro["points"]:
        assert cells["route-route"][p["label"]]["accuracy"] == p["accuracy"]
        assert cells["route-route"][p["label"]]["usd_per_task"] == p["usd_per_task"]
    # train and validation
    est = _json(cli, "truecost train --model llama-3.1-70b --tokens 15e12 --gpu h100-sxm "
                     "--gpus 16384 --json")
    for key, fig in est["final_run"].items():
        assert cells["train-train"][key]["final_run"] == fig["value"]
    for suite in ("serving", "training"):
        v = _json(cli, f"truecost validate {suite} --json")
        for row in v["rows"]:
            assert cells[f"validate-{suite}-validation"][row["id"]]["predicted"] == row["predicted"]

    shots = Path(_SCREENSHOT_DIR) if _SCREENSHOT_DIR else tmp_path
    page.hover("#compare-1-cost rect.bar >> nth=3")
    page.screenshot(path=str(shots / "report.png"))
    page.evaluate("document.getElementById('run-1-throughput').scrollIntoView()")
    page.hover("#run-1-throughput circle.mark >> nth=4")
    page.screenshot(path=str(shots / "report-bench.png"))
    for section, mark, name in (("plan-1-plan", "circle.mark", "report-plan.png"),
                                ("route-route", "circle.mark", "report-route.png")):
        page.evaluate(f"document.getElementById('{section}').scrollIntoView()")
        page.hover(f"#{section} {mark} >> nth=2")
        page.screenshot(path=str(shots / name))
    assert (shots / "report.png").stat().st_size > 10_000
