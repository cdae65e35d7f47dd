"""The public API is a visible act: __all__ is sorted and names exactly what the package exports."""

import truecost


def test_all_is_sorted_and_complete():
    public = sorted(n for n in vars(truecost) if not n.startswith("_") and n not in {"annotations"}
                    and not hasattr(getattr(truecost, n), "__path__") and not _is_submodule(n))
    assert truecost.__all__ == sorted(truecost.__all__, key=str)
    assert sorted(truecost.__all__) == public


def _is_submodule(name: str) -> bool:
    import types

    return isinstance(getattr(truecost, name), types.ModuleType)


def test_api_verbs_match_cli_results():
    e = truecost.estimate("llama-3.1-8b", "h100-sxm", precision="fp8")
    assert e.max_concurrency > 0 and e.provenance.kind == "modelled"
