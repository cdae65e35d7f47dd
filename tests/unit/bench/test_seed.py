"""bench's seed: a new one per run by default (recorded in the run), so a rerun sends prompts the
server has not cached; ``seed`` (``--seed``) pins it and sends the same prompts again."""

from tests.fakeserver import MODEL
from truecost.bench import list_runs, run_bench

SMALL = {"requests": 4, "isl": 16, "osl": 2}


def prompts(fake) -> list[str]:
    out = [r.body["messages"][-1]["content"] for r in fake.received]
    fake.received.clear()
    return out


def test_each_run_draws_its_own_seed_and_records_it(fake):
    events: list[str] = []
    a = run_bench(fake.url("fast"), MODEL, on_event=events.append, **SMALL)
    first = prompts(fake)
    b = run_bench(fake.url("fast"), MODEL, **SMALL)
    second = prompts(fake)
    assert len(first) == len(second) == 4
    # random words from the first on: a prefix the server cached would start with the same words
    assert {" ".join(p.split()[:3]) for p in first}.isdisjoint(
        " ".join(p.split()[:3]) for p in second)
    seeds = {r["run_id"]: r["config"]["seed"] for r in list_runs()}
    assert seeds[a.run_id] != seeds[b.run_id]
    assert events[0] == (f"point 1/1: concurrency 1, 4 requests (seed {seeds[a.run_id]}: --seed "
                         f"{seeds[a.run_id]} sends the same prompts again)")
    run_bench(fake.url("fast"), MODEL, seed=seeds[a.run_id], **SMALL)
    assert prompts(fake) == first  # pinned: the same prompts, in the same order
