"""Every term of every shipped engine profile says where its value comes from, in a form
`truecost engines` can show: a publication, a measurement (script + date), or an assumption."""

import re

import pytest

from truecost.errors import CatalogError
from truecost.perf.engine import SOURCE_KINDS, TERMS, EngineProfile, engines


@pytest.mark.parametrize("key", sorted(engines()))
def test_every_term_has_a_source(key):
    prof = engines()[key]
    sources = prof.term_sources()
    assert set(sources) == set(TERMS)
    for term, (kind, text) in sources.items():
        assert kind in ("publication", "measurement", "assumption"), f"{key}.{term}: {kind}"
        assert len(text) > 20, f"{key}.{term} says too little: {text!r}"
        assert "DESIGN.md" not in text  # the project's own notes are not a source
        if kind == "measurement":  # a script in the repo and the date it ran
            assert re.search(r"benchmarks/\w+\.py", text) and re.search(r"\d{4}-\d\d-\d\d", text), text


def test_source_entries_are_checked_on_load(tmp_path):
    base = engines()["tuned"].model_dump(exclude={"key"})
    with pytest.raises(ValueError, match="sources.memory_efficiency must start with one of"):
        EngineProfile.model_validate({"key": "x", **base, "sources": {"memory_efficiency": "DESIGN.md"}})
    with pytest.raises(ValueError, match="sources.typo: not a term of the profile"):
        EngineProfile.model_validate({"key": "x", **base, "sources": {"typo": "assumption: x"}})
    assert SOURCE_KINDS == ("publication", "measurement", "calibrated", "assumption")


def test_a_user_profile_without_sources_shows_them_as_unsourced(tmp_path):
    from truecost.perf.engine import engine

    f = tmp_path / "mine.toml"
    lines = [f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {str(v).lower()}" if isinstance(v, bool)
             else f"{k} = {v!r}"
             for k, v in engines()["vllm"].model_dump(exclude={"key", "sources", "retrieved", "calibration",
                                                               "compute_efficiency"}).items()]
    f.write_text('["mine"]\n' + "\n".join(lines) + '\ncompute_efficiency = { bf16 = 0.6 }\nretrieved = 2026-01-01\n')
    assert engine(str(f)).term_sources()["memory_efficiency"] == ("unsourced", "")
    f.write_text('["mine"]\nname = 3\n')
    with pytest.raises(CatalogError):
        engine(str(f))
