"""The public API is a visible act: __all__ is sorted and names exactly what the package exports."""

import json
import math

import pytest

import truecost

from .conftest import REPO


def test_all_is_sorted_and_complete():
    public = sorted(n for n in vars(truecost) if not n.startswith("_") and n not in {"annotations"}
                    and not hasattr(getattr(truecost, n), "__path__") and not _is_submodule(n))
    assert truecost.__all__ == sorted(truecost.__all__, key=str)
    assert sorted(truecost.__all__) == public


def _is_submodule(name: str) -> bool:
    import types

    return isinstance(getattr(truecost, name), types.ModuleType)


def _same(api: object, cli: object, path: str = "") -> None:
    """JSON from the CLI equals the API's result, number for number (floats within rounding of
    the JSON encoder, which writes them with repr: exact)."""
    if isinstance(api, dict):
        assert set(api) == set(cli), path
        for k in api:
            _same(api[k], cli[k], f"{path}.{k}")
    elif isinstance(api, (list, tuple)):
        assert len(api) == len(cli), path
        for i, (a, c) in enumerate(zip(api, cli)):
            _same(a, c, f"{path}[{i}]")
    elif isinstance(api, float) and not math.isfinite(api):
        assert cli is None or cli == str(api) or not math.isfinite(cli), path
    elif isinstance(api, float):
        assert cli == pytest.approx(api, rel=1e-12), path
    else:
        assert cli == (api.value if hasattr(api, "value") else api), path


def test_api_verbs_match_cli_results(cli):
    """The CLI is a thin client: its --json is the API's result, figure for figure."""
    e = truecost.estimate("llama-3.1-70b", "h100-sxm", precision="fp8", tp=2, isl=1000, osl=500,
                          concurrency=64)
    r = cli("estimate", "--model", "llama-3.1-70b", "--gpu", "h100-sxm", "--precision", "fp8", "--tp", "2",
            "--isl", "1000", "--osl", "500", "--concurrency", "64", "--json")
    assert r.code == 0, r.stderr
    _same(e.to_dict(), json.loads(r.stdout))

    workload = str(REPO / "examples" / "chat-assistant.toml")
    c = truecost.compare(workload)
    r = cli("compare", workload, "--json")
    assert r.code == 0, r.stderr
    out = json.loads(r.stdout)
    assert [o["label"] for o in out["options"]] == [o.label for o in c.options]
    for api_o, cli_o in zip(c.options, out["options"]):
        for k in ("usd_per_task", "usd_per_month", "gpus", "replicas", "ttft_s", "tpot_s"):
            _same(getattr(api_o, k), cli_o[k], f"{api_o.label}.{k}")

    t = truecost.train_cost("llama-3.1-8b", tokens=1e12, gpus=64)
    r = cli("train", "--model", "llama-3.1-8b", "--tokens", "1e12", "--gpus", "64", "--json")
    assert r.code == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["final_run"]["gpu_hours"]["value"] == pytest.approx(t.gpu_hours.value, rel=1e-12)
    assert d["usd"] == pytest.approx(t.usd.value, rel=1e-12)
