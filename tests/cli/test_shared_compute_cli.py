"""CLI: `estimate --swarm`, `estimate --offload`, `train --consortium`, `validate swarm` and a
compare example with swarm and offload candidates: tables within 80 columns, strict JSON, and
each user error as one exact line on stderr with exit status 1."""

from __future__ import annotations

import json

import pytest

from truecost import consortium, estimate_offload, estimate_swarm

from ..conftest import REPO


def _strict(text: str) -> object:
    def no_constants(c: str) -> None:
        raise ValueError(f"non-standard JSON constant {c}")

    return json.loads(text, parse_constant=no_constants)


def _table_lines_fit(out: str, width: int) -> None:
    for line in out.splitlines():
        if line.startswith(("network:", "cost:", "note:", "provenance:", "shared R&D", "R&D multiplier",
                            "final run:", "excluded:", "assumes:", "[")):
            continue  # one-line notes below the tables soft-wrap on the terminal
        assert len(line.rstrip()) <= width, line
    assert "…" not in out


def test_estimate_swarm_table_and_json(cli, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    args = ("estimate", "--model", "llama-2-70b", "--swarm", "3x a100-80gb", "--precision", "int4",
            "--isl", "100", "--osl", "100")
    r = cli(*args)
    assert r.code == 0 and r.stderr == "", r.stderr
    _table_lines_fit(r.stdout, 80)
    e = estimate_swarm("llama-2-70b", "3x a100-80gb", precision="int4", isl=100, osl=100)
    assert f"{e.tokens_per_s:,.2f}" in r.stdout and "rent" in r.stdout
    d = _strict(cli(*args, "--json").stdout)
    assert d["tokens_per_s"] == pytest.approx(e.tokens_per_s) and len(d["slices"]) == 3
    assert d["provenance"].startswith("modelled:swarm:")


def test_estimate_swarm_network_flags(cli) -> None:
    r = cli("estimate", "--model", "llama-2-70b", "--swarm", "3x a100-80gb", "--precision", "int4",
            "--network", "cross-continent", "--rtt-ms", "150", "--routing", "direct", "--json")
    d = _strict(r.stdout)
    assert d["routing"] == "direct" and d["network"].startswith("cross-continent with 150 ms")


def test_estimate_offload_table_and_json(cli, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    args = ("estimate", "--model", "llama-3.1-70b", "--gpu", "rtx-4090", "--offload", "--host-ram-gb", "256",
            "--isl", "1000", "--osl", "200")
    r = cli(*args)
    assert r.code == 0, r.stderr
    _table_lines_fit(r.stdout, 80)
    e = estimate_offload("llama-3.1-70b", "rtx-4090", host_ram_gb=256, isl=1000, osl=200)
    assert f"{e.tokens_per_s:,.2f}" in r.stdout and "host link" in r.stdout
    assert _strict(cli(*args, "--json").stdout)["offloaded_bytes"] == pytest.approx(e.offloaded_bytes)


def test_train_consortium(cli, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    args = ("train", "--model", "llama-3.1-70b", "--tokens", "15e12", "--consortium", "4", "--budget", "6e7")
    r = cli(*args)
    assert r.code == 0, r.stderr
    _table_lines_fit(r.stdout, 80)
    c = consortium(4, model="llama-3.1-70b", tokens=15e12, budget_usd=6e7)
    assert f"${c.member_usd:,.0f}" in r.stdout and f"{c.break_even_members:,}" in r.stdout
    d = _strict(cli(*args, "--json").stdout)
    assert d["member_usd"] == pytest.approx(c.member_usd) and d["shared_rnd"]["value"] == 0.5


def test_validate_swarm_fits(cli, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    r = cli("validate", "swarm")
    assert r.code == 0, r.stderr
    assert all(len(ln.rstrip()) <= 80 for ln in r.stdout.splitlines()[1:15])
    assert "P7: 14 real servers" in r.stdout
    d = _strict(cli("validate", "swarm", "--json").stdout)
    assert {row["id"] for row in d["rows"]} >= {"P1", "O1", "R1", "L1"}


def test_team_chat_example_carries_every_kind(cli) -> None:
    d = _strict(cli("compare", str(REPO / "examples" / "team-chat-70b.toml"), "--json").stdout)
    kinds = {o["kind"] for o in d["options"]}
    assert kinds == {"api", "self-hosted", "swarm", "offload"}


@pytest.mark.parametrize(("args", "line"), [
    (("estimate", "--model", "llama-2-70b", "--swarm", "3x a100-80gb", "--gpu", "h100"),
     "error: --swarm names its own servers; it excludes --gpu and --offload"),
    (("estimate", "--model", "llama-2-70b", "--offload"),
     "error: --offload needs --gpu (the one GPU that streams the weights)"),
    (("estimate", "--model", "llama-2-70b", "--swarm", "3x a100-80gb", "--host-ram-gb", "64"),
     "error: --host-ram-gb does not apply to --swarm"),
    (("estimate", "--model", "llama-2-70b", "--gpu", "rtx-4090", "--offload", "--rtt-ms", "5"),
     "error: --rtt-ms does not apply to --offload"),
    (("estimate", "--model", "llama-2-70b", "--swarm", "3x rtx-9090"),
     "error: unknown GPU 'rtx-9090'; did you mean rtx-5090, rtx-4090, rtx-3090?"),
    (("estimate", "--model", "llama-2-70b", "--swarm", "2x rtx-3060"),
     "error: llama-2-70b at int8 does not fit on 2 server(s): its 80 layers need 72.7 GB with the runtime "
     "reserve (+ KV), the GPUs hold 25.8 GB; they fit 24 layers. Add servers or use a smaller precision (int4)"),
    (("estimate", "--model", "llama-2-70b", "--swarm", "3x a100-80gb", "--network", "moon"),
     "error: unknown network 'moon'; did you mean same-region?"),
    (("estimate", "--model", "llama-2-70b", "--swarm", "3x a100-80gb", "--share", "0"),
     "error: --share must be within (0, 1] (the share of each server's time), got 0"),
    (("estimate", "--model", "llama-2-70b"), "error: give --gpu (or --swarm SERVERS for a swarm)"),
    (("train", "--model", "llama-3.1-70b", "--tokens", "1e12", "--shared-rnd", "0.5"),
     "error: --shared-rnd and --budget go with --consortium N (the number of labs)"),
    (("train", "--model", "llama-3.1-70b", "--tokens", "1e12", "--consortium", "3", "--shared-rnd", "2"),
     "error: --shared-rnd must be a fraction within [0, 1], got 2"),
    (("validate", "swarm", "--engine", "vllm"),
     "error: --engine applies to the serving suite only (each swarm row names its engine)"),
])
def test_errors_are_one_line(cli, args, line) -> None:
    r = cli(*args)
    assert (r.code, r.stderr.strip(), r.stdout) == (1, line, "")
