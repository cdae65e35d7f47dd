"""`truecost route simulate`: the table, strict JSON, one-line errors, and the README's route
block as the tool prints it now."""

from __future__ import annotations

import json
import re

from ..conftest import REPO

CSV = str(REPO / "examples" / "routellm-gsm8k" / "outcomes.csv")
README_ARGS = ("route", "simulate", "examples/routellm-gsm8k/outcomes.csv",
               "--offer", "mixtral=mistral/open-mixtral-8x7b",
               "--offer", "gpt-4=openai/gpt-4-1106-preview",
               "--tokens", "mixtral=1000:100", "--tokens", "gpt-4=1000:100")


def test_route_table_and_json(cli):
    r = cli("route", "simulate", CSV, "--usd-per-task", "mixtral=0.001",
            "--usd-per-task", "gpt-4=0.01")
    assert r.code == 0, r.stderr
    lines = [ln.strip() for ln in r.stdout.splitlines()]
    assert lines[0] == "routing over 1,319 questions answered by every model:"
    assert lines[1] == "cheap:  mistralai/Mixtral-8x7B-Instruct-v0.1"
    # 842/1319 = 63.8%; random 50%: (0.001 + 0.01) / 2 = $0.0055 per task
    assert any(re.fullmatch(r"cheap alone +0\.0% +63\.8% +\$0\.001 +\$0\.00157", x) for x in lines)
    assert any(re.fullmatch(r"random 50% +50\.0% +74\.8% +\$0\.0055 +\$0\.00736", x) for x in lines)
    assert any(re.fullmatch(r"random +0\.500 +50\.0% +80\.0% +\S+", x) for x in lines)
    j = cli("route", "simulate", CSV, "--usd-per-task", "mixtral=0.001", "--json")
    d = json.loads(j.stdout)
    assert d["questions"] == 1319 and d["curves"][0]["cpt50"] == 0.5
    assert j.stderr == ("note: no price for gpt-4-1106-preview: costs are left out (give "
                        "--usd-per-task MODEL=X, or --offer MODEL=PROVIDER/MODEL)\n")
    # only the priced model alone has a $/task
    assert [p["label"] for p in d["points"] if p["usd_per_task"] is not None] == [
        "mistralai/Mixtral-8x7B-Instruct-v0.1 alone"]


def test_route_errors_are_one_line(cli, tmp_path):
    def err(*args: str) -> str:
        r = cli("route", "simulate", *args)
        assert r.code == 1 and r.stdout == ""
        return r.stderr

    assert err(CSV, "--usd-per-task", "mixtral") == (
        "error: --usd-per-task takes MODEL=VALUE, got 'mixtral'\n")
    assert err(CSV, "--usd-per-task", "mixtral=cheap") == (
        "error: --usd-per-task needs a number, got 'cheap'\n")
    assert err(CSV, "--offer", "mixtral=openai/gpt-4o", "--tokens", "mixtral=5") == (
        "error: --tokens takes MODEL=IN:OUT (tokens per task), got '5'\n")
    assert err(CSV, "--score", "conf") == (
        "error: no score column in the outcomes for --score conf: give a CSV with a column of "
        "numbers per question\n")
    assert err(CSV, "--strong", "llama") == (
        "error: unknown model 'llama'; known models: gpt-4-1106-preview, "
        "mistralai/Mixtral-8x7B-Instruct-v0.1\n")
    assert err(CSV, "--usd-per-task", "mixtral=1e308", "--usd-per-task", "gpt-4=1e308") == (
        "error: 'mistralai/Mixtral-8x7B-Instruct-v0.1' costs $1e+308 per task (input: $1e+308 per "
        "task), more than the $1,000,000,000 a route prices; check the price or the tokens per task\n")
    dear = tmp_path / "dear.csv"
    dear.write_text("id,a,a:usd,b\nq1,True,2e9,False\nq2,False,1,True\n")  # 2e9 > 1e9
    assert err(str(dear)) == (
        f"error: 'a' costs $2e+09 per task (file:{dear} (a:usd)), more than the $1,000,000,000 a "
        "route prices; check the price or the tokens per task\n")
    one = tmp_path / "one.csv"
    one.write_text("id,cheap,conf\nq1,True,0.5\nq2,False,0.25\n")  # one model column, one score
    assert err(str(one)) == (
        "error: routing needs the outcomes of at least two models; found 1 (cheap): give a "
        "True/False column per model, or two eval run ids\n")
    assert err("20990101-000000-dead") == (
        "error: '20990101-000000-dead' is neither a CSV file nor a stored eval run; see truecost "
        "runs list\n")


def test_readme_route_block_is_current(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.chdir(REPO)
    readme = (REPO / "README.md").read_text()
    block = re.search(r"<!-- route-routellm:begin -->\n```text\n(.*?)\n```\n"
                      r"<!-- route-routellm:end -->", readme, re.S)
    assert block, "README lost its route block"
    r = cli(*README_ARGS)
    assert r.code == 0, r.stderr
    assert r.stdout.rstrip("\n") == block.group(1)
