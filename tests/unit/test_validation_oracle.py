"""truecost.validation on small CSVs made here: each training prediction worked out by hand
(6·N·D over the catalog's peak and MFU), each swarm/offload row checked against the perf model
called directly with the row's own settings, and the report's text, sources, notes and dict
pinned field by field. The shipped rows' accuracy bars live in tests/unit/test_train.py and
tests/unit/test_validation_swarm.py."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from truecost import validate
from truecost.errors import DoesNotFitError, InputError
from truecost.perf.links import link
from truecost.perf.offload import estimate_offload
from truecost.perf.swarm import estimate_swarm
from truecost.validation import (
    KNOWN_MISSES,
    _dated,
    _reported_mfu,
    _row_sources,
    validate_swarm,
    validate_training,
)

# catalog peaks (dense, FLOP/s), catalog/data gpus: H100 SXM bf16 989.4 T, A100 80GB bf16 312 T,
# H800 fp8 1,978.9 T (the H100's). Default MFUs (training.toml): H100 bf16 0.40 (Llama 3 405B),
# A100 bf16 0.36 (MPT-7B).
H100_BF16, A100_BF16, H800_FP8 = 989.4e12, 312e12, 1978.9e12

TRAIN_COLUMNS = ["id", "model", "params_total", "params_active", "tokens", "hardware", "gpu_hours",
                 "reported_mfu", "reported_cost_usd", "reported_co2_t", "notes", "source"]
SWARM_COLUMNS = ["id", "deployment", "model", "servers", "precision", "engine", "rtt_ms", "mbit_s",
                 "routing", "client", "host_link_gb_s", "overlap", "isl", "osl", "ratio_of", "metric",
                 "value", "unit", "source", "note"]
LLAMA2 = "meta-llama Llama 2 model card"  # in sources.toml: published 2023-07-18, retrieved 2026-11-25


def _csv(path: Path, columns: list[str], rows: list[dict[str, str]]) -> Path:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in columns})
    return path


def _training(tmp_path: Path) -> Path:
    return _csv(tmp_path / "train.csv", TRAIN_COLUMNS, [
        # default MFU 0.40: 6 * 1e9 * 1e12 / (989.4e12 * 0.40) / 3600 = 4,211.3065 GPU-h
        dict(id="T1", model="M1", params_total="1e9", params_active="1e9", tokens="1e12",
             hardware="H100-80GB (700 W)", gpu_hours="5000", source=LLAMA2),
        # reported MFU "0.30-0.50" -> 0.40 (middle): 6 * 2e9 * 1e12 / (312e12 * 0.40) / 3600 = 26,709.4 GPU-h
        dict(id="X2", model="M2", params_total="4e9", params_active="2e9", tokens="1e12",
             hardware="A100-80GB (400 W)", gpu_hours="20000", reported_mfu="0.30-0.50 (by stage)",
             source="same"),
        # reported 0.5: 6 * 1e9 * 1e12 / (1978.9e12 * 0.5) / 3600 = 1,684.4375 GPU-h; at $2 -> $3,368.875
        dict(id="X3", model="M3", params_total="3e9", params_active="1e9", tokens="1e12",
             hardware="H800 (FP8 training)", gpu_hours="2000", reported_mfu="0.5",
             reported_cost_usd="4000", source="same; Table 1"),
    ])


def test_reported_mfu_is_the_middle_of_the_range() -> None:
    assert _reported_mfu("0.38-0.43 (by stage)") == pytest.approx(0.405, rel=1e-12)
    assert _reported_mfu("0.5") == 0.5  # one number: lo = hi
    assert _reported_mfu("0.2-0.4") == pytest.approx(0.3, rel=1e-12)
    assert _reported_mfu("") is None and _reported_mfu("   ") is None


def test_training_rows_by_hand(tmp_path: Path) -> None:
    rows, notes = validate_training(_training(tmp_path))
    assert [r.id for r in rows] == ["T1", "X2", "X3", "X3-usd"]
    t1, x2, x3, usd = rows
    assert t1.predicted == pytest.approx(6 * 1e9 * 1e12 / (H100_BF16 * 0.40) / 3600, rel=1e-9)
    assert x2.predicted == pytest.approx(6 * 2e9 * 1e12 / (A100_BF16 * 0.40) / 3600, rel=1e-9)
    assert x3.predicted == pytest.approx(6 * 1e9 * 1e12 / (H800_FP8 * 0.5) / 3600, rel=1e-9)
    assert usd.predicted == pytest.approx(2.0 * 6 * 1e9 * 1e12 / (H800_FP8 * 0.5) / 3600, rel=1e-9)
    assert [(r.metric, r.unit, r.published, r.binding) for r in rows] == [
        ("gpu_hours", "GPU-h", 5000.0, ""), ("gpu_hours", "GPU-h", 20000.0, ""),
        ("gpu_hours", "GPU-h", 2000.0, ""), ("cost_usd", "USD", 4000.0, "")]
    assert [r.description for r in rows] == [
        "M1 h100-sxm bf16, MFU 0.4 default", "M2 a100-80gb bf16, MFU 0.4 reported",
        "M3 h800 fp8, MFU 0.5 reported", "M3 h800 fp8, MFU 0.5 reported, $2/GPU-hour"]
    # only rows with something to say keep a note: T1 is a known miss by its id
    assert notes == {"T1": KNOWN_MISSES["T1"]}


def test_unknown_hardware_names_the_known_ones(tmp_path: Path) -> None:
    path = _csv(tmp_path / "bad.csv", TRAIN_COLUMNS, [
        dict(id="Z9", model="M", params_total="1e9", params_active="1e9", tokens="1e9",
             hardware="TPU v5p", gpu_hours="1")])
    with pytest.raises(InputError) as e:
        validate_training(path)
    assert str(e.value) == ("row Z9: unknown hardware 'TPU v5p'; known: H100-80GB (700 W), "
                            "A100-80GB (400 W), H800 (FP8 training)")


def test_sources_resolve_same_and_carry_their_dates(tmp_path: Path) -> None:
    path = _training(tmp_path)
    assert _row_sources(path) == {"T1": LLAMA2, "X2": LLAMA2, "X3": LLAMA2 + "; Table 1"}
    assert _dated({"a": LLAMA2, "b": "nowhere"}) == {
        "a": LLAMA2 + " (published 2023-07-18, retrieved 2026-11-25)", "b": "nowhere (undated)"}
    report = validate("training", csv_path=path)
    dated = LLAMA2 + " (published 2023-07-18, retrieved 2026-11-25)"
    assert report.sources == {"T1": dated, "X2": dated, "X3": LLAMA2 + "; Table 1 (undated)",
                              "X3-usd": LLAMA2 + "; Table 1 (undated)"}


def test_training_report_as_a_dict(tmp_path: Path) -> None:
    report = validate("training", csv_path=_training(tmp_path))
    assert report.suite == "training" and report.engine is None
    d = report.to_dict()
    assert list(d) == ["suite", "engine", "summary", "rows"]
    assert (d["suite"], d["engine"]) == ("training", None)
    e1 = 6e21 / (H100_BF16 * 0.40) / 3600 / 5000 - 1  # -0.1577
    e2 = 6 * 2e21 / (A100_BF16 * 0.40) / 3600 / 20000 - 1  # +0.3355
    e3 = 6e21 / (H800_FP8 * 0.5) / 3600 / 2000 - 1  # -0.1578
    e4 = 2 * 6e21 / (H800_FP8 * 0.5) / 3600 / 4000 - 1  # -0.1578
    errors = sorted(abs(e) for e in (e1, e2, e3, e4))
    s = d["summary"]
    assert list(s) == ["rows", "median_abs_error", "max_ratio", "by_metric"]
    assert s["rows"] == 4
    assert s["median_abs_error"] == pytest.approx((errors[1] + errors[2]) / 2, rel=1e-9)
    assert s["max_ratio"] == pytest.approx(1 + e2, rel=1e-9)  # X2 predicted high: pred / pub
    assert list(s["by_metric"]) == ["gpu_hours", "cost_usd"]
    assert s["by_metric"]["cost_usd"] == {"rows": 1, "median_abs_error": pytest.approx(abs(e4), rel=1e-9),
                                          "max_ratio": pytest.approx(1 / (1 + e4), rel=1e-9)}
    assert s["by_metric"]["gpu_hours"]["rows"] == 3
    first = d["rows"][0]
    assert list(first) == ["id", "description", "metric", "unit", "published", "predicted", "error",
                           "ratio", "binding", "note", "source"]
    assert first == {"id": "T1", "description": "M1 h100-sxm bf16, MFU 0.4 default", "metric": "gpu_hours",
                     "unit": "GPU-h", "published": 5000.0, "predicted": pytest.approx(5000 * (1 + e1)),
                     "error": pytest.approx(e1), "ratio": pytest.approx(1 / (1 + e1)), "binding": None,
                     "note": KNOWN_MISSES["T1"],
                     "source": LLAMA2 + " (published 2023-07-18, retrieved 2026-11-25)"}
    assert d["rows"][1]["note"] is None and d["rows"][3]["id"] == "X3-usd"


def _swarm(tmp_path: Path) -> Path:
    return _csv(tmp_path / "swarm.csv", SWARM_COLUMNS, [
        dict(id="S1", deployment="swarm", model="llama-2-70b", servers="2x a100-80gb", precision="int4",
             engine="vllm", rtt_ms="40", mbit_s="200", routing="direct", client="cpu", isl="16", osl="100",
             metric="decode_steps_per_s", value="4.0", unit="steps/s", source="paper A", note="a note"),
        dict(id="O1", deployment="offload", model="llama-2-70b", servers="rtx-4090", precision="int4",
             engine="vllm", host_link_gb_s="12", overlap="yes", isl="16", osl="100",
             metric="decode_steps_per_s", value="0.5", unit="steps/s", source="same"),
        dict(id="O2", deployment="offload", model="llama-2-70b", servers="rtx-4090", precision="int4",
             engine="vllm", host_link_gb_s="12", overlap="no", isl="16", osl="100",
             metric="decode_steps_per_s", value="0.4", unit="steps/s", source="same"),
        dict(id="R1", deployment="ratio", model="llama-2-70b", ratio_of="S1/O1", metric="speedup",
             value="8", unit="x", source="same"),
    ])


def test_swarm_and_offload_rows_use_each_rows_settings(tmp_path: Path) -> None:
    rows, notes = validate_swarm(_swarm(tmp_path))
    by = {r.id: r for r in rows}
    assert list(by) == ["S1", "O1", "O2", "R1"]
    s = estimate_swarm("llama-2-70b", "2x a100-80gb", precision="int4", engine="vllm", isl=16, osl=100,
                       network=link("same-region", rtt_ms=40, mbit_s=200), routing="direct", client="cpu")
    o1 = estimate_offload("llama-2-70b", "rtx-4090", precision="int4", engine="vllm", isl=16, osl=100,
                          host_link_gb_s=12, overlap=True, host_ram_gb=1024)
    o2 = estimate_offload("llama-2-70b", "rtx-4090", precision="int4", engine="vllm", isl=16, osl=100,
                          host_link_gb_s=12, overlap=False, host_ram_gb=1024)
    assert (by["S1"].predicted, by["S1"].binding) == (s.tokens_per_s, s.binding)
    assert (by["O1"].predicted, by["O1"].binding) == (o1.tokens_per_s, o1.binding)
    assert (by["O2"].predicted, by["O2"].binding) == (o2.tokens_per_s, o2.binding)
    assert o2.tokens_per_s < o1.tokens_per_s  # overlap hides the stream: the row's flag reached it
    assert by["R1"].predicted == pytest.approx(s.tokens_per_s / o1.tokens_per_s, rel=1e-12)
    assert by["R1"].binding == "" and by["R1"].published == 8.0
    assert [(r.metric, r.unit) for r in rows] == [("decode_steps_per_s", "steps/s")] * 3 + [("speedup", "x")]
    assert [r.description for r in rows] == [
        "llama-2-70b swarm 2x a100-80gb int4, 40 ms, 200 Mbit/s, direct, cpu client, 116 tokens",
        "llama-2-70b offload 1x rtx-4090 int4, host link 12 GB/s, overlapped, 116 tokens",
        "llama-2-70b offload 1x rtx-4090 int4, host link 12 GB/s, serial, 116 tokens",
        "llama-2-70b: row S1 / row O1"]
    assert notes == {"S1": "a note"}  # rows with an empty note keep none


def test_swarm_report_has_no_engine_and_names_each_rows_source(tmp_path: Path) -> None:
    report = validate("swarm", csv_path=_swarm(tmp_path))
    assert report.suite == "swarm" and report.engine is None
    assert report.sources == {k: "paper A (undated)" for k in ("S1", "O1", "O2", "R1")}
    d = report.to_dict()
    assert d["rows"][0]["binding"] == report.rows[0].binding != ""
    assert d["rows"][3]["binding"] is None  # a ratio row binds nothing
    assert report.summary.rows == 4


@pytest.mark.parametrize(("row", "message"), [
    (dict(id="Q1", deployment="cluster"), "row Q1: unknown deployment 'cluster'; known: swarm, offload, ratio"),
    (dict(id="Q2", deployment="ratio", ratio_of="A/B"), "row Q2: ratio_of 'A/B' needs two rows above it"),
])
def test_swarm_row_errors(tmp_path: Path, row: dict[str, str], message: str) -> None:
    path = _csv(tmp_path / "bad.csv", SWARM_COLUMNS, [{"isl": "1", "osl": "1", "value": "1", **row}])
    with pytest.raises(InputError) as e:
        validate_swarm(path)
    assert str(e.value) == message


def test_a_ratio_needs_both_rows_above_it(tmp_path: Path) -> None:
    rows = [dict(id="S1", deployment="swarm", model="llama-2-70b", servers="2x a100-80gb", precision="int4",
                 engine="vllm", rtt_ms="40", mbit_s="200", routing="relay", client="cpu", isl="16", osl="8",
                 metric="m", value="1", unit="u"),
            dict(id="R1", deployment="ratio", ratio_of="S1/O9", metric="m", value="1", unit="u")]
    with pytest.raises(InputError) as e:
        validate_swarm(_csv(tmp_path / "r.csv", SWARM_COLUMNS, rows))
    assert str(e.value) == "row R1: ratio_of 'S1/O9' needs two rows above it"


def test_engine_applies_to_serving_only() -> None:
    with pytest.raises(InputError) as e:
        validate("swarm", engine="vllm")
    assert str(e.value) == "--engine applies to the serving suite only (each swarm row names its engine)"
    with pytest.raises(InputError) as e:
        validate("training", engine="vllm")
    assert str(e.value) == "--engine applies to the serving suite only (training has no engine)"
    with pytest.raises(InputError) as e:
        validate("fit")
    assert str(e.value) == "unknown validation suite 'fit'; choose serving, training or swarm"


def test_a_metric_with_no_prediction_still_counts_its_rows() -> None:
    from truecost.perf.validation import ValidationRow
    from truecost.validation import summary_of
    s = summary_of([ValidationRow("a", "a", "m", "u", 1.0, None, ""), ValidationRow("b", "b", "m", "u", 2.0, None, "")])
    assert (s.rows, s.median_abs_error, s.max_ratio) == (2, None, None)
    assert (s.by_metric["m"].rows, s.by_metric["m"].median_abs_error) == (2, None)


def test_same_on_the_first_row_and_no_source_column(tmp_path: Path) -> None:
    path = _csv(tmp_path / "s.csv", ["id", "source"], [dict(id="A", source="same; page 3"), dict(id="B", source="")])
    assert _row_sources(path) == {"A": "; page 3", "B": ""}  # nothing above A to be the same as
    bare = _csv(tmp_path / "bare.csv", ["id"], [dict(id="A")])
    assert _row_sources(bare) == {"A": ""}


def test_a_cost_row_uses_its_own_gpu_and_two_dollars_an_hour(tmp_path: Path) -> None:
    path = _csv(tmp_path / "c.csv", TRAIN_COLUMNS, [
        dict(id="C1", model="M", params_total="1e9", params_active="1e9", tokens="1e12",
             hardware="A100-80GB (400 W)", gpu_hours="10000", reported_mfu="0.4", reported_cost_usd="20000")])
    rows, notes = validate_training(path)
    # 6e21 / (312e12 * 0.4) / 3600 = 13,354.7 A100-hours; at the row's own $2/hour (not the catalog
    # rent, not an H100's peak): $26,709.4
    hours = 6e21 / (A100_BF16 * 0.4) / 3600
    assert rows[0].predicted == pytest.approx(hours, rel=1e-9)
    assert rows[1].id == "C1-usd" and rows[1].predicted == pytest.approx(2.0 * hours, rel=1e-9)
    assert notes == {}


def test_a_swarm_rows_client_and_an_offload_rows_engine_and_host_ram_reach_the_model(tmp_path: Path) -> None:
    path = _csv(tmp_path / "w.csv", [c for c in SWARM_COLUMNS if c != "note"], [
        dict(id="S1", deployment="swarm", model="llama-2-70b", servers="2x a100-80gb", precision="int8",
             engine="petals", rtt_ms="20", mbit_s="500", routing="relay", client="rtx-4090", isl="64", osl="64",
             metric="m", value="1", unit="u"),
        dict(id="O1", deployment="offload", model="llama-3.1-405b", servers="a100-80gb", precision="int8",
             engine="petals", host_link_gb_s="16", overlap="yes", isl="8", osl="8", metric="m", value="1", unit="u"),
    ])
    rows, notes = validate_swarm(path)
    s = estimate_swarm("llama-2-70b", "2x a100-80gb", precision="int8", engine="petals", isl=64, osl=64,
                       network=link("same-region", rtt_ms=20, mbit_s=500), routing="relay", client="rtx-4090")
    cpu = estimate_swarm("llama-2-70b", "2x a100-80gb", precision="int8", engine="petals", isl=64, osl=64,
                         network=link("same-region", rtt_ms=20, mbit_s=500), routing="relay", client="cpu")
    assert rows[0].predicted == s.tokens_per_s != cpu.tokens_per_s
    o = estimate_offload("llama-3.1-405b", "a100-80gb", precision="int8", engine="petals", isl=8, osl=8,
                         host_link_gb_s=16, overlap=True, host_ram_gb=1024)
    vllm = estimate_offload("llama-3.1-405b", "a100-80gb", precision="int8", engine="vllm", isl=8, osl=8,
                            host_link_gb_s=16, overlap=True, host_ram_gb=1024)
    assert rows[1].predicted == o.tokens_per_s != vllm.tokens_per_s
    with pytest.raises(DoesNotFitError):  # 405 GB of int8 weights do not fit the default 256 GB of RAM
        estimate_offload("llama-3.1-405b", "a100-80gb", precision="int8", engine="petals", isl=8, osl=8,
                         host_link_gb_s=16, overlap=True)
    assert notes == {}  # no note column: no notes


def test_serving_on_your_own_csv_takes_its_rows_and_sources(tmp_path: Path) -> None:
    from truecost.validation import PUBLISHED_SERVING_FILES
    with open(PUBLISHED_SERVING_FILES[0], newline="") as f:
        reader = csv.DictReader(f)
        columns, first = list(reader.fieldnames or []), next(reader)
    path = _csv(tmp_path / "v.csv", columns, [first | {"id": "MINE", "source": "my lab notebook"}])
    report = validate("serving", csv_path=path)
    assert [r.id for r in report.rows] == ["MINE"] and report.engine == "tuned"
    assert report.sources == {"MINE": "my lab notebook (undated)"}


def test_quoted_line_breaks_survive_as_written(tmp_path: Path) -> None:
    # a quoted CSV field may hold "\r\n"; read with newline="" (the csv module's rule) it stays
    # "\r\n", where universal newlines would turn it into "\n"
    swarm = _csv(tmp_path / "w.csv", SWARM_COLUMNS, [
        dict(id="R0", deployment="swarm", model="llama-2-70b", servers="2x a100-80gb", precision="int8",
             engine="petals", rtt_ms="20", mbit_s="500", routing="relay", client="cpu", isl="8", osl="8",
             metric="m", value="1", unit="u", source="paper\r\npage 2", note="line one\r\nline two")])
    assert validate_swarm(swarm)[1] == {"R0": "line one\r\nline two"}
    assert _row_sources(swarm) == {"R0": "paper\r\npage 2"}
    train = _csv(tmp_path / "t.csv", TRAIN_COLUMNS, [
        dict(id="X1", model="M\r\n1", params_total="1e9", params_active="1e9", tokens="1e12",
             hardware="H100-80GB (700 W)", gpu_hours="5000")])
    assert validate_training(train)[0][0].description == "M\r\n1 h100-sxm bf16, MFU 0.4 default"


def test_the_default_suite_is_serving() -> None:
    report = validate()
    assert report.suite == "serving" and report.engine == "tuned"
