"""The performance model against published serving measurements (shipped with the package).

Targets with the default ("tuned") engine profile: median absolute error ≤ 25% over the rows
and no row off by more than 2x either way. The table prints with ``pytest -s``.
"""

from truecost.perf.validation import PUBLISHED_SERVING, summarise, validate_serving


def test_published_serving_rows():
    assert PUBLISHED_SERVING.is_file()
    rows = validate_serving(PUBLISHED_SERVING)
    print(f"\n{'id':5} {'metric':18} {'published':>10} {'predicted':>10} {'error':>7}  binding       row")
    for r in rows:
        print(f"{r.id:5} {r.metric:18} {r.published:>10.1f} {r.predicted:>10.1f} {r.error:>+7.1%}  "
              f"{r.binding:13} {r.description}")
    s = summarise(rows)
    print(f"rows {s['rows']}, median |error| {s['median_abs_error']:.1%}, worst ratio {s['max_ratio']:.2f}x")
    assert s["rows"] == 25
    assert s["median_abs_error"] <= 0.25  # issue target
    assert s["max_ratio"] <= 2.0  # issue target: no row off by more than 2x
