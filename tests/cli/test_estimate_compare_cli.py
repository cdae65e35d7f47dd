"""CLI: output shapes, and every user error as one exact line on stderr with exit status 1."""

import json
import subprocess
import sys

import pytest

from ..conftest import REPO

ESTIMATE_KEYS = {"weights_bytes", "kv_bytes_per_token", "max_concurrency", "prefill_s", "decode_step_s",
                 "ttft_s", "tpot_s", "output_tokens_per_s", "requests_per_s", "binding", "provenance"}


def test_estimate_json_has_the_stable_keys(cli):
    r = cli("estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--precision", "fp8",
            "--isl", "1000", "--osl", "1000", "--json")
    assert r.code == 0, r.stderr
    d = json.loads(r.stdout)
    assert ESTIMATE_KEYS <= d.keys()
    assert d["kv_bytes_per_token"] == 2 * 32 * 8 * 128  # fp8 KV: one byte per element
    assert d["provenance"].startswith("modelled:")


def test_estimate_batch_context_json(cli):
    r = cli("estimate", "--model", "llama-3.1-8b", "--gpu", "h100", "--batch", "8", "--context", "2048", "--json")
    assert r.code == 0, r.stderr
    assert json.loads(r.stdout)["mode"] == "batch"


def test_estimate_table(cli):
    r = cli("estimate", "--model", "llama-3.1-70b", "--gpu", "h100-sxm", "--precision", "fp8", "--tp", "2")
    assert r.code == 0, r.stderr
    assert "max concurrency" in r.stdout and "provenance: modelled:" in r.stdout


def test_compare_json_and_table(cli):
    r = cli("compare", str(REPO / "examples" / "chat-assistant.toml"), "--json")
    assert r.code == 0, r.stderr
    d = json.loads(r.stdout)
    costs = [o["usd_per_task"] for o in d["options"] if o["excluded"] is None]
    assert costs == sorted(costs) and len(costs) >= 4
    r = cli("compare", str(REPO / "examples" / "chat-assistant.toml"))
    assert r.code == 0 and "$/task" in r.stdout


@pytest.mark.parametrize("args, line", [
    (["estimate", "--model", "llama-3.1-8", "--gpu", "h100-sxm"],
     "error: unknown model 'llama-3.1-8'; did you mean llama-3.1-8b, llama-3.1-70b, llama-3.1-405b?"),
    (["estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxn"],
     "error: unknown GPU 'h100-sxn'; did you mean h100-sxm, h100-nvl, h100-pcie?"),
    (["estimate", "--model", "llama-3.1-70b", "--gpu", "h100-sxm"],
     "error: llama-3.1-70b at bf16 does not fit on 1x h100-sxm: needs 146.1 GB per GPU (weights 141.1 + "
     "runtime 4.3 + KV for one 2,000-token sequence 0.66), has 85.9 GB; fits with --tp 2 or --precision fp8"),
    (["estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--rate", "-1"],
     "error: --rate must be > 0 requests/s, got -1.0"),
])
def test_user_errors_are_one_line(cli, args, line):
    r = cli(*args)
    assert r.code == 1
    assert r.stderr.strip() == line
    assert "Traceback" not in r.stderr


def test_workload_file_errors(cli, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\ntasks_per_day = 10\n[tokens]\ninput = 10\noutput = 5\nouptut = 3\n')
    r = cli("compare", str(bad))
    assert (r.code, r.stderr.strip()) == (1, f"error: {bad}: unknown key 'tokens.ouptut'")
    broken = tmp_path / "broken.toml"
    broken.write_text("name = \n")
    r = cli("compare", str(broken))
    assert r.code == 1 and r.stderr.startswith(f"error: {broken}: invalid TOML: ")
    assert len(r.stderr.strip().splitlines()) == 1
    r = cli("compare", str(tmp_path / "missing.toml"))
    assert (r.code, r.stderr.strip()) == (1, f"error: {tmp_path / 'missing.toml'}: file not found")


def test_user_model_file(cli, tmp_path):
    f = tmp_path / "tiny.toml"
    f.write_text('name = "Tiny"\nhf_id = "me/tiny"\nlayers = 4\nd_model = 512\nheads = 8\nkv_heads = 2\n'
                 'head_dim = 64\nd_ff = 1536\nvocab = 32000\ntied_embeddings = true\nmax_context = 8192\n'
                 'source = "my config.json"\nretrieved = 2026-11-01\n')
    r = cli("estimate", "--model", str(f), "--gpu", "l4", "--json")
    assert r.code == 0, r.stderr
    assert json.loads(r.stdout)["model"] == "tiny"


def test_python_dash_m_runs():
    r = subprocess.run([sys.executable, "-m", "truecost", "--help"], capture_output=True, text=True, check=False)
    assert r.returncode == 0 and "compare" in r.stdout and "estimate" in r.stdout
