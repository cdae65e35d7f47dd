"""`truecost report` from the command line: the page embeds exactly what the named commands
print with --json (run through the CLI here), and user errors are one line."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from tests.unit.report.page import read_page

REPO = Path(__file__).resolve().parents[2]
CHAT = str(REPO / "examples" / "chat-assistant.toml")


def test_the_page_embeds_what_each_command_prints(cli, tmp_path):
    args = tmp_path / "train.toml"
    args.write_text('model = "llama-3.1-8b"\ntokens = 15e12\ngpu = "h100-sxm"\ngpus = 1024\n'
                    'rnd_multiplier = "epoch-low"\n')
    out = tmp_path / "r.html"
    r = cli("report", "--workload", CHAT, "--train", str(args), "--validate", "training",
            "-o", str(out))
    assert r.code == 0, r.stderr
    assert r.stdout.splitlines()[0].startswith(f"wrote {out}: 3 views, ")
    page = read_page(out.read_text())
    embedded = {cmd: doc for docs in page.json.values() for cmd, doc in docs.items()}
    assert sorted(embedded) == sorted([
        f"truecost compare {CHAT} --json", "truecost validate training --json",
        "truecost train --model llama-3.1-8b --tokens 1.5e+13 --gpu h100-sxm --gpus 1024 "
        "--rnd-multiplier epoch-low --json"])
    for cmd, doc in embedded.items():
        ran = cli(*shlex.split(cmd)[1:])
        assert ran.code == 0, ran.stderr
        assert json.loads(ran.stdout) == doc, cmd


def test_plan_forecast_and_route_embed_what_their_commands_print(cli, tmp_path):
    coding, outcomes = REPO / "examples" / "self-hosted-coding.toml", REPO / "examples" / "routellm-gsm8k" / "outcomes.csv"
    out = tmp_path / "r.html"
    r = cli("report", "--plan", str(coding), "--plan-gpus", "h100-sxm,l40s", "--forecast", CHAT,
            "--forecast-months", "12", "--route", str(outcomes), "--route-offer",
            "mixtral=mistral/open-mixtral-8x7b", "--route-offer", "gpt-4=openai/gpt-4-1106-preview",
            "--route-tokens", "mixtral=1000:100", "--route-tokens", "gpt-4=1000:100", "-o", str(out), "--json")
    assert r.code == 0, r.stderr
    assert [v["id"] for v in json.loads(r.stdout)["views"]] == ["plan-1-plan", "forecast-1-forecast", "route-route"]
    page = read_page(out.read_text())
    embedded = {cmd: doc for docs in page.json.values() for cmd, doc in docs.items()}
    assert sorted(embedded) == sorted([
        f"truecost plan {coding} --gpus h100-sxm,l40s --json", f"truecost forecast {CHAT} --months 12 --json",
        f"truecost route simulate {outcomes} --offer mixtral=mistral/open-mixtral-8x7b --offer "
        "gpt-4=openai/gpt-4-1106-preview --tokens mixtral=1000:100 --tokens gpt-4=1000:100 --json"])
    for cmd, doc in embedded.items():
        ran = cli(*shlex.split(cmd)[1:])
        assert ran.code == 0, ran.stderr
        assert json.loads(ran.stdout) == doc, cmd


def test_json_lists_the_views(cli, tmp_path):
    out = tmp_path / "r.html"
    r = cli("report", "--workload", str(REPO / "examples" / "math-tutor-reasoning.toml"), "-o",
            str(out), "--json")
    assert r.code == 0, r.stderr
    d = json.loads(r.stdout)
    assert (d["path"], d["bytes"]) == (str(out), out.stat().st_size)
    assert [v["id"] for v in d["views"]] == ["compare-1-cost", "compare-1-accuracy"]


@pytest.mark.parametrize(("args", "message"), [
    ([], "nothing to report: give bench or eval run ids, --workload W.toml, --plan W.toml, "
         "--forecast W.toml, --route OUTCOMES, --train ARGS.toml or --validate SUITE"),
    (["nope"], "unknown run 'nope'; there are no runs yet"),
    (["--validate", "speed"], "unknown validation suite 'speed'; choose serving, training or swarm"),
    (["--workload", "/nonexistent.toml"], "/nonexistent.toml: file not found"),
    (["--plan", CHAT, "--plan-gpus", " , "], "--plan-gpus ' , ' names no GPU; give at least one (e.g. --plan-gpus "
                                            "h100-sxm,l40s) or leave it out to search every priced GPU"),
    (["--forecast", CHAT, "--forecast-months", "0"], "--forecast-months must be a whole number from 1 to 120, got 0"),
    (["--forecast", CHAT, "--forecast-growth", "abc"], "--forecast-growth 'abc' is not a monthly rate; use e.g. "
                                                       "8%/month, 8% or 0.08"),
    (["--plan", CHAT, "--plan-slo", "ttft_p95=abc"], "--plan-slo: 'ttft_p95=abc': give a time above zero such as "
                                                     "2s or 80ms"),
    (["--route", "x.csv", "--route-tokens", "m=1000"], "--route-tokens takes MODEL=IN:OUT (tokens per task), "
                                                      "got '1000'"),
    (["--route", "x.csv", "--route-usd-per-task", "m=cheap"], "--route-usd-per-task needs a number, got 'cheap'"),
    (["--train", "/nonexistent.toml"], "/nonexistent.toml: file not found"),
    (["--workload", CHAT, "-o", "/nonexistent/r.html"],
     "cannot write /nonexistent/r.html: the folder /nonexistent does not exist"),
])
def test_errors_are_one_line(cli, args, message):
    r = cli("report", *args, *([] if "-o" in args else ["-o", "/tmp/unused-report.html"]))
    assert (r.code, r.stdout, r.stderr) == (1, "", f"error: {message}\n")


def test_bad_training_arguments(cli, tmp_path):
    bad = tmp_path / "t.toml"
    bad.write_text('model = "llama-3.1-8b"\ntokens = 1e12\ngpus = 0\n')
    r = cli("report", "--train", str(bad), "-o", str(tmp_path / "r.html"))
    assert (r.code, r.stderr) == (1, f"error: {bad}: gpus: Input should be greater than or equal "
                                     f"to 1\n")


def test_readme_example_is_current(cli, monkeypatch, tmp_path):
    """The README's `truecost report` block, run from the repository root (the page written to
    a temporary folder; its size, which varies with the date printed in it, is not compared)."""
    text = (REPO / "README.md").read_text()
    block = text.split("<!-- report-example:begin -->")[1].split("<!-- report-example:end -->")[0]
    lines = block.strip().strip("`").removeprefix("text").strip().splitlines()
    n = next(i for i, x in enumerate(lines) if not x.endswith("\\")) + 1  # the command's lines
    command = " ".join(x.strip().rstrip("\\") for x in lines[:n]).removeprefix("$ ")
    expected = lines[n:]
    monkeypatch.chdir(REPO)
    out = tmp_path / "report.html"
    r = cli(*shlex.split(command.replace("-o report.html", f"-o {out}"))[1:])
    assert r.code == 0, r.stderr
    got = r.stdout.replace(str(out), "report.html").splitlines()
    size = re.compile(r"\d[\d,]* KiB")
    assert [size.sub("N KiB", x) for x in got] == [size.sub("N KiB", x) for x in expected]
