"""The serving simulation against published figures under load (TTFT, ITL, throughput at each
concurrency), reported by metric group; and the by-metric summary itself on hand-made rows."""

import statistics

import pytest

from truecost.perf.validation import (
    PUBLISHED_SERVING_UNDER_LOAD,
    ValidationRow,
    summarise,
    summarise_by_metric,
    validate_serving,
)


def row(metric: str, published: float, predicted: float) -> ValidationRow:
    return ValidationRow("x", "", metric, "ms", published, predicted, "memory")


def test_summary_by_metric_group_by_hand():
    rows = [row("ttft_mean", 100, 150), row("ttft_mean", 200, 100), row("ttft_p99", 50, 55),
            row("itl_mean", 10, 9), row("tpot_mean", 20, 22), row("output_throughput", 1000, 1100)]
    by = summarise_by_metric(rows)
    assert list(by) == ["throughput", "tpot", "ttft"]
    # TTFT errors: +50%, -50%, +10% -> median |error| 50%, worst ratio 2.0 (100 vs 200), median +10%.
    assert by["ttft"] == {"rows": 3, "median_abs_error": pytest.approx(0.5), "max_ratio": pytest.approx(2.0),
                          "median_error": pytest.approx(0.1)}
    # TPOT group holds ITL and TPOT: -10% and +10%.
    assert by["tpot"]["median_abs_error"] == pytest.approx(0.1)
    assert by["throughput"]["max_ratio"] == pytest.approx(1.1)
    assert summarise([])["median_abs_error"] is None


def print_summary(rows: list[ValidationRow]) -> None:
    print(f"{'metric':11} {'rows':>4} {'median |error|':>15} {'median error':>13} {'worst ratio':>12}")
    for g, s in summarise_by_metric(rows).items():
        print(f"{g:11} {s['rows']:>4} {s['median_abs_error']:>15.1%} {s['median_error']:>+13.1%} "
              f"{s['max_ratio']:>11.2f}x")


def test_ttft_under_load_is_predicted_by_the_simulation():
    rows = validate_serving(PUBLISHED_SERVING_UNDER_LOAD)
    print(f"\n{'id':9} {'metric':18} {'published':>10} {'predicted':>10} {'error':>7} {'steady state':>13}")
    for r in rows:
        print(f"{r.id:9} {r.metric:18} {r.published:>10.1f} {r.predicted:>10.1f} {r.error:>+7.1%} "
              f"{r.steady_state:>13.1f}")
    print_summary(rows)
    by = summarise_by_metric(rows)
    ttft = [r for r in rows if r.group == "ttft"]
    assert len(ttft) == 10
    # Targets for TTFT under load (the steady state is off by up to 160x on these rows): median
    # |error| within 50%, no row off by more than 2x (whole-prompt scheduling took the worst row,
    # closed loop 50 of 5000-token prompts, from 2.5x to 1.8x).
    assert by["ttft"]["median_abs_error"] <= 0.5
    assert by["ttft"]["max_ratio"] <= 2.0
    steady = [r.steady_state / r.published for r in ttft]
    assert statistics.median(abs(x - 1) for x in steady) > by["ttft"]["median_abs_error"]
    assert max(max(x, 1 / x) for x in steady) > 10 * by["ttft"]["max_ratio"]
    # Throughput and ITL keep the targets of the offline rows.
    for group in ("throughput", "tpot"):
        assert by[group]["median_abs_error"] <= 0.25 and by[group]["max_ratio"] <= 2.0


def test_every_shipped_row_by_metric():
    rows = validate_serving()
    print(f"\nall shipped rows ({len(rows)}), by metric:")
    print_summary(rows)
    ttft = [r for r in rows if r.group == "ttft"]
    steady = [r.steady_state / r.published for r in ttft]
    print(f"TTFT from the steady state instead: median |error| "
          f"{statistics.median(abs(x - 1) for x in steady):.1%}, worst ratio {max(max(x, 1 / x) for x in steady):.0f}x")
    assert summarise(rows)["median_abs_error"] <= 0.25
