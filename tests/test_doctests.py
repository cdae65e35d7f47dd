"""Every runnable example in a docstring runs and prints what it says (``doctest``).

Examples that need a live endpoint, a Ray cluster or a result store being written are usage
sketches, not runnable here: they are listed below by docstring, with why. Examples marked
``# doctest: +SKIP`` in the source show modelled numbers that other changes move."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import truecost

NEEDS_A_SERVER = {  # docstring -> why its example cannot run in a test
    "truecost.bench.run.run_bench": "benchmarks http://localhost:8000",
    "truecost.bench.runner.execute_shard": "sends to an endpoint `url`",
    "truecost.bench.distributed": "starts Ray and sends to an endpoint `url`",
    "truecost.store.Writer": "a sketch of the writer process's calls",
}


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(truecost.__path__, "truecost.")
                  if not m.name.endswith("__main__"))


def _examples(name: str) -> list[doctest.DocTest]:
    mod = importlib.import_module(name)
    return [t for t in doctest.DocTestFinder().find(mod, name) if t.examples]


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name):
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for t in _examples(name):
        if t.name in NEEDS_A_SERVER:
            continue
        runner.run(t)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"


def test_the_list_of_sketches_names_real_docstrings():
    found = {t.name for name in _modules() for t in _examples(name)}
    assert set(NEEDS_A_SERVER) <= found
    runnable = found - set(NEEDS_A_SERVER)
    assert len(runnable) >= 12  # cost, train (5), schedule, workload, client, progress, ...
