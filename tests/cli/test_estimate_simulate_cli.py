"""CLI: estimate's simulated percentiles, its tables at 80 and 150 columns, its new flags' errors,
and the README's estimate block."""

import json
import re

import pytest

from ..conftest import REPO

ESTIMATE = ["estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--precision", "fp8"]
NUMBER_CUT = re.compile(r"\d…|…\d|\$…")


@pytest.mark.parametrize("columns", ["80", "150"])
@pytest.mark.parametrize("extra", [[], ["--concurrency", "32", "--requests", "200"], ["--rate", "4", "--requests", "200"],
                                   ["--batch", "16", "--context", "2048"]])
def test_estimate_fits_the_terminal(cli, monkeypatch, columns, extra):
    monkeypatch.setenv("COLUMNS", columns)
    r = cli(*ESTIMATE, *extra)
    assert r.code == 0, r.stderr
    lines = r.stdout.splitlines()  # tables and the wrapped notes and provenance under them
    assert lines and all(len(ln) <= int(columns) for ln in lines), [ln for ln in lines if len(ln) > int(columns)]
    assert not NUMBER_CUT.search(r.stdout), r.stdout
    if extra[:1] in (["--concurrency"], ["--rate"]):
        assert "simulated:" in r.stdout and "TTFT" in r.stdout and "p99" in r.stdout
    if extra[:1] == ["--batch"]:  # only what --batch/--context define
        assert "decode step" in r.stdout and "TTFT" not in r.stdout and "max concurrency" not in r.stdout


def test_estimate_json_carries_the_simulation(cli):
    r = cli(*ESTIMATE, "--rate", "5", "--requests", "300", "--seed", "3", "--warmup", "50", "--json")
    assert r.code == 0, r.stderr
    sim = json.loads(r.stdout)["simulation"]
    assert (sim["requests"], sim["warmup"], sim["seed"]) == (300, 50, 3)
    assert sim["arrivals"] == "Poisson 5 req/s"
    assert sim["ttft"]["n"] == 250 and sim["ttft"]["p50"] <= sim["ttft"]["p95"] <= sim["ttft"]["p99"]
    d = json.loads(cli(*ESTIMATE, "--batch", "8", "--context", "1024", "--json").stdout)
    assert d["ttft_s"] is None and d["max_concurrency"] is None and d["simulation"] is None


@pytest.mark.parametrize("args, line", [
    (["--cached-input-fraction", "1.5"], "error: --cached-input-fraction must be within [0, 1], got 1.5"),
    (["--concurrency", "4", "--requests", "0"], "error: --requests must be at least 1, got 0"),
    (["--batch", "4", "--context", "100", "--rate", "2"],
     "error: --batch/--context price one step; they exclude --concurrency and --rate"),
    (["--concurrency", "4", "--requests", "10", "--warmup", "10"], "error: warmup must be within [0, 10), got 10"),
])
def test_estimate_flag_errors_are_one_line(cli, args, line):
    r = cli(*ESTIMATE, *args)
    assert r.code == 1
    assert r.stderr.strip() == line


def test_readme_estimate_block_is_current(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    readme = (REPO / "README.md").read_text()
    block = re.search(r"<!-- estimate-sim:begin -->\n```text\n\$ COLUMNS=80 truecost (.*?)\n(.*?)\n```", readme, re.S)
    assert block, "README lost its estimate block"
    r = cli(*block.group(1).split())
    assert r.code == 0, r.stderr
    assert r.stdout.rstrip("\n") == block.group(2)


def test_workload_slo_keys_say_mean_or_percentile(cli, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\ntasks_per_day = 10\n[tokens]\ninput = 10\noutput = 5\n[slo]\nttft_p96_s = 1\n'
                   '[[api]]\noffer = "openai/gpt-4o-mini"\n')
    r = cli("compare", str(bad))
    assert (r.code, r.stderr.strip()) == (1, f"error: {bad}: unknown key 'slo.ttft_p96_s'")
