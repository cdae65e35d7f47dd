"""estimate with attention DP / expert parallelism, fp4 and power, through the CLI."""

import json


def test_estimate_with_dp_and_ep(cli):
    r = cli("estimate", "--model", "mixtral-8x7b", "--gpu", "h100-sxm", "--precision", "fp8", "--dp", "4",
            "--ep", "4", "--concurrency", "64", "--json")
    assert r.code == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["gpus"] == 4
    assert d["breakdown_s"]["collectives"] > 0  # the all-to-all of EP over 4 GPUs
    assert d["energy_j_per_output_token"] == d["power_w"] / d["output_tokens_per_s"]
    r = cli("estimate", "--model", "mixtral-8x7b", "--gpu", "h100-sxm", "--dp", "2", "--ep", "4")
    assert (r.code, r.stderr.strip()) == (1, "error: --ep must be 1 or the replica's 2 GPUs (tp x dp), got 4")


def test_gpt_oss_at_its_native_precision_and_the_power_row(cli):
    r = cli("estimate", "--model", "gpt-oss-120b", "--gpu", "h100-sxm", "--precision", "native",
            "--concurrency", "8")
    assert r.code == 0, r.stderr
    assert "(w:mxfp4 (experts) kv:bf16 mm:bf16)" in r.stdout
    power = next(line for line in r.stdout.splitlines() if line.startswith("power "))
    assert " W   " in power and "J/output token; idle 105 W" in power
