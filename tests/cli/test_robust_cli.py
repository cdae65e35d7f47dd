"""Hostile input through the CLI: each case is one exact line on stderr and an exit status, never
a traceback, NaN or Infinity; text from files is printed as text; files that are not regular
text files, names that are empty, and writes that cannot happen are one line each."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import truecost
from truecost.cli import estimate as estimate_cli
from truecost.hardware import BYTES_PER_ELEM, PrecisionName

EMPTY_GPU = "empty GPU name; give a catalog name or a file path"
# the closed sets as the catalog defines them (other precisions may join them)
PRECISIONS = ", ".join(repr(p.value) for p in PrecisionName)
KV_DTYPES = ", ".join(d for d in BYTES_PER_ELEM if d not in ("tf32", "mxfp4"))


@pytest.mark.parametrize(("args", "code", "line"), [
    # typer cannot parse it: one line, exit 2, the closed set listed
    (["estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--isl", "abc"], 2,
     "Invalid value for '--isl': Input should be a valid integer, unable to parse string as an "
     "integer; see 'truecost estimate --help'"),
    (["estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--precision", "FP6"], 2,
     f"Invalid value for '--precision': 'FP6' is not one of {PRECISIONS}; see 'truecost "
     f"estimate --help'"),
    # numbers: finite, then in range
    (["estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--rate", "nan"], 1,
     "--rate must be a finite number, got nan"),
    (["estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--rate", "-inf"], 1,
     "--rate must be a finite number, got -inf"),
    (["estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--kv-dtype", "fp6"], 1,
     f"unknown KV-cache dtype 'fp6'; choose one of {KV_DTYPES}"),
    # 1e6 x 100,000 tokens x 131,072 B/token (bf16 KV of Llama-3.1-8B: 2 x 32 layers x 8 KV
    # heads x 128 x 2 B) = 13,107,200 GB; the pool holds 4 such sequences
    (["estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--batch", "1000000",
      "--context", "100000"], 1,
     "1,000,000 sequences of 100,000 tokens do not fit on 1x h100-sxm: their KV cache needs "
     "13,107,200.0 GB per GPU, the KV pool has 62.3 GB (4 such sequences fit); lower --batch or "
     "--context"),
    (["estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--batch", "2", "--context",
      "1000000000"], 1, "--context 1,000,000,000 exceeds llama-3.1-8b's context of 131,072 tokens"),
    # names are never empty, and never match an entry by accident (an empty alias or id)
    (["estimate", "--model", "llama-3.1-8b", "--gpu", ""], 1,
     EMPTY_GPU),
    (["train", "--model", "llama-3.1-8b", "--tokens", "1e12", "--gpu", " "], 1,
     EMPTY_GPU),
    (["train", "--model", "llama-3.1-8b", "--tokens", "inf", "--json"], 1,
     "--tokens must be a finite number, got inf"),
    (["train", "--params-total", "1e300", "--tokens", "1e300", "--json"], 1,
     "the result overflows: training FLOPs is beyond 1.8e308, the largest number this arithmetic holds; give fewer --tokens or a smaller model"),
    (["train", "--model", "llama-3.1-8b", "--tokens", "1e12", "--seq-len", "10000000000"], 1,
     "--seq-len 10,000,000,000 exceeds llama-3.1-8b's context of 131,072 tokens"),
    (["train", "--model", "llama-3.1-8b", "--tokens", "1e12", "--rnd-multiplier", "inf"], 1,
     "--rnd-multiplier must be a finite number, got inf"),
    # 6 x 1e12 x 1e12 = 6e24 FLOPs in 1 GPU-hour of 989.4e12 FLOP/s: MFU 1.68e6
    (["train", "implied-mfu", "--gpu-hours", "1", "--params-total", "1e12", "--tokens", "1e12"], 1,
     "these figures imply an MFU of 1.68e+06, above 1: 6e+24 FLOPs do not fit in 1 h100-sxm "
     "GPU-hours even at peak; check --gpu-hours, --tokens, the parameter count, --gpu and "
     "--precision"),
    (["train", "trend", "--base-usd", "1e6", "--base-year", "2023", "--to-year", "3000"], 1,
     "--to-year (3000) is more than 100 years after the base year (2023); a growth rate says nothing "
     "that far out"),
    (["train", "trend", "--base-usd", "1e300", "--base-year", "2023", "--to-year", "2100", "--json"], 1,
     "the result overflows: projected cost is beyond 1.8e308, the largest number this arithmetic holds; project fewer years or a lower growth"),
    # bench: refused before anything is sent
    (["bench", "http://127.0.0.1:9/v1", "--model", "m", "--rate", "1e-9"], 1,
     "at 1e-09 requests/s, 100 requests take 3.14e+03 years, more than the week one operating "
     "point may run; raise --rate, lower --requests, or bound it with --duration-s"),
    (["bench", "http://127.0.0.1:9/v1", "--model", "m", "--rate", "1e12", "--duration-s", "1"], 1,
     "--rate must be a finite number > 0 and <= 1e+06 requests/s, got 1e+12"),
    (["bench", "http://127.0.0.1:9/v1", "--model", "m", "--rate", "1000", "--duration-s", "2000"], 1,
     "at 1000 requests/s for 2000 s, one operating point would send 2,000,000 requests, more "
     "than the 1,000,000 one point keeps (every record is held in memory until the point is "
     "summarised); lower --rate or --duration-s"),
    (["bench", "http://127.0.0.1:9/v1", "--model", "m", "--duration-s", "inf"], 1,
     "--duration-s must be a finite number, got inf"),
    (["bench", "http://127.0.0.1:9/v1", "--model", "m", "--timeout-s", "inf"], 1,
     "--timeout-s must be a finite number, got inf"),
    (["bench", "http://127.0.0.1:9/v1", "--model", "m", "--isl", "256:inf"], 1,
     "bad input length '256:inf': sizes must be finite and at most 10,000,000 tokens (the "
     "longest context of any model)"),
    (["bench", "http://127.0.0.1:9/v1", "--model", "m", "--concurrency", "100000"], 1,
     "--concurrency 100,000 is more than one client can hold open (65,535: TCP's port space); "
     "spread the load with --ray-address"),
    (["bench", "http://u:pw@127.0.0.1:9/v1", "--model", "m"], 1,
     "endpoint URL 'http://127.0.0.1:9/v1' carries credentials (user:password@); drop them and "
     "set the key in TRUECOST_API_KEY (sent as a Bearer token)"),
    (["bench", "http://127.0.0.1:x/v1", "--model", "m"], 1,
     "endpoint URL 'http://127.0.0.1:x/v1' is not a valid URL (check the host and port)"),
    (["bench", "http://127.0.0.1:9/v1", "--model", "m", "--gpu", ""], 1,
     EMPTY_GPU),
    (["bench", "http://127.0.0.1:9/v1", "--model", "m", "--ray-address", "127.0.0.1:1"], 1,
     "cannot reach the Ray cluster at '127.0.0.1:1' (127.0.0.1:1): connection refused; is Ray "
     "running there (ray start --head)?"),
])
def test_bad_input_is_one_line(cli, args, code, line):
    r = cli(*args)
    assert (r.code, r.stdout, r.stderr) == (code, "", f"error: {line}\n")


def test_case_does_not_matter_in_closed_sets_of_the_api():
    a = truecost.estimate("llama-3.1-8b", "h100-sxm", precision="FP8", kv_dtype="BF16")
    b = truecost.estimate("llama-3.1-8b", "h100-sxm", precision="fp8", kv_dtype="bf16")
    assert a == b and a.precision == "w:fp8 kv:bf16 mm:fp8"


def test_a_bug_is_one_line_with_the_hint_and_the_traceback_on_request(cli, monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(estimate_cli, "run_estimate", broken)
    r = cli("estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm")
    assert (r.code, r.stdout) == (70, "")
    assert r.stderr == ("error: internal error (ZeroDivisionError: float division by zero); this "
                        "is a bug in truecost: please report it with the command you ran "
                        "(TRUECOST_DEBUG=1 shows the traceback)\n")
    monkeypatch.setenv("TRUECOST_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        cli("estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm")


WORKLOAD = """\
name = {name}
tasks_per_day = {tasks}
{extra}
[tokens]
input = {input}
output = 50
"""


def workload(tmp_path: Path, *, name: str = '"w"', tasks: str = "1000", input: str = "100",
             extra: str = "", candidates: str = '[[api]]\noffer = "openai/gpt-4o-mini"\n') -> Path:
    p = tmp_path / "w.toml"
    p.write_text(WORKLOAD.format(name=name, tasks=tasks, input=input, extra=extra) + candidates)
    return p


def test_text_from_files_is_printed_as_text_never_markup(cli, tmp_path):
    p = workload(tmp_path, name='"[bold]Support[/bold] [/x]"',
                 candidates='[[api]]\noffer = "openai/gpt-4o-mini"\nlabel = "[red]mini[/red]"\n')
    r = cli("compare", str(p))
    assert r.code == 0, r.stderr
    assert r.stdout.startswith("[bold]Support[/bold] [/x]: 30,417 tasks/month")
    assert "[red]mini[/red]" in r.stdout


@pytest.mark.parametrize(("kwargs", "line"), [
    ({"tasks": "nan"}, "{p}: tasks_per_day: nan is not a number truecost can use; give a finite "
                       "value"),
    ({"input": "inf"}, "{p}: tokens.input: inf is not a number truecost can use; give a finite "
                       "value"),
    ({"name": '""'}, "{p}: name: String should have at least 1 character"),
    # 1e308 tasks/day x 1 request x peak 3 (the default) / 86,400 s = 3.47e303 requests/s
    ({"tasks": "1e308"}, "{p}: tasks_per_day x requests_per_task x peak_to_mean / 86,400 gives a peak of "
                         "3.47e+303 requests/s, beyond the 10,000,000 requests/s truecost sizes; check those "
                         "three keys"),
    ({"candidates": '[[self_hosted]]\nmodel = "llama-3.1-8b"\ngpus = []\n'},
     "{p}: self_hosted.0.gpus: List should have at least 1 item after validation, not 0"),
    ({"candidates": '[[self_hosted]]\nmodel = "llama-3.1-8b"\ngpus = [" "]\n'},
     "{p}: self_hosted.0.gpus.0: String should have at least 1 character"),
    ({"candidates": '[[self_hosted]]\nmodel = "llama-3.1-8b"\ngpus = ["h100-sxm", "a100-80gb"]\n'
                    'usd_per_gpu_hour = 2.0\n'},
     "{p}: self_hosted.0: usd_per_gpu_hour is one GPU type's rent, and gpus lists 2; give each "
     "GPU type its own [[self_hosted]] table"),
    ({"candidates": '[[api]]\noffer = ""\n'}, "{p}: api.0.offer: String should have at least 1 "
                                               "character"),
])
def test_bad_workloads_are_one_line(cli, tmp_path, kwargs, line):
    p = workload(tmp_path, **kwargs)
    r = cli("compare", str(p), "--json")
    assert (r.code, r.stdout, r.stderr) == (1, "", f"error: {line.format(p=p)}\n")


def test_an_offer_priced_inf_is_refused(cli, tmp_path):
    (tmp_path / "offers.toml").write_text('["acme/m"]\nusd_per_mtok_input = inf\n'
                                          'usd_per_mtok_output = 1.0\nsource = "x"\n'
                                          'as_of = 2025-01-01\n')
    p = workload(tmp_path, extra='offers_file = "offers.toml"',
                 candidates='[[api]]\noffer = "acme/m"\n')
    r = cli("compare", str(p))
    assert r.stderr == (f"error: {tmp_path / 'offers.toml'}: acme/m.usd_per_mtok_input: inf is "
                        f"not a number truecost can use; give a finite value\n")


def test_a_quality_bar_excludes_candidates_that_state_no_accuracy(cli, tmp_path):
    p = workload(tmp_path, extra="min_accuracy = 0.9",
                 candidates='[[api]]\noffer = "openai/gpt-4o-mini"\n[[api]]\n'
                            'offer = "openai/gpt-4o"\naccuracy = 0.95\n')
    c = truecost.compare(p)
    assert [o.label for o in c.ranked] == ["openai/gpt-4o"]
    assert cli("compare", str(p)).stdout.count(
        "excluded: openai/gpt-4o-mini: no accuracy stated, and the workload's min_accuracy is "
        "90% (add accuracy = ... to the candidate)") == 1


def test_a_prompt_beyond_the_models_context_is_an_excluded_line(tmp_path):
    p = workload(tmp_path, input="1e9", candidates='[[self_hosted]]\nmodel = "llama-3.1-8b"\n')
    (o,) = truecost.compare(p).options
    assert o.excluded == ("1,000,000,000 input + 50 output tokens exceed llama-3.1-8b's context "
                          "of 131,072 tokens")


@pytest.mark.parametrize("kind", ["folder", "binary", "fifo", "missing", "under-a-file"])
def test_files_that_are_not_regular_text_files_are_one_line(cli, tmp_path, kind):
    p = tmp_path / "x.toml"
    if kind == "folder":
        p.mkdir()
        why = "cannot read a folder; give the TOML file inside it"
    elif kind == "binary":
        p.write_bytes(b"name = \"\xff\xfe\"\n")
        why = "not a UTF-8 text file (byte 8 is not text); give a TOML file"
    elif kind == "fifo":
        os.mkfifo(p)  # opening it to read would block forever
        why = "not a regular file (a pipe or device); give a TOML file"
    elif kind == "missing":
        why = "file not found"
    else:
        (tmp_path / "f").write_text("")
        p = tmp_path / "f" / "x.toml"
        why = "file not found (a part of the path is not a folder)"
    for args in (["compare", str(p)], ["estimate", "--model", "llama-3.1-8b", "--gpu", str(p)],
                 ["bench", "http://127.0.0.1:9/v1", "--model", "m", "--prompts", str(p)]):
        r = cli(*args)
        expected = why.replace("TOML", "JSONL") if args[0] == "bench" else why
        assert (r.code, r.stderr) == (1, f"error: {p}: {expected}\n"), args


def _a_stored_run(cli, fake) -> str:
    assert cli("bench", fake.url("fast"), "--model", "fake-model", "--requests", "3").code == 0
    return json.loads(cli("runs", "list", "--json").stdout)[0]["run_id"]


def test_exports_refuse_a_folder_and_say_why_a_write_fails(cli, tmp_path):
    from tests.fakeserver import FakeServer

    with FakeServer() as fake:
        run_id = _a_stored_run(cli, fake)
    (tmp_path / "afile").write_text("keep me")
    cases = [(tmp_path, f"{tmp_path}: is a folder; give a file name for the export"),
             (tmp_path / "afile" / "x.csv",
              f"cannot write {tmp_path / 'afile' / 'x.csv'}: {tmp_path / 'afile'} is a file, "
              f"not a folder")]
    if Path("/sys/kernel").is_dir():  # sysfs refuses new files, to root too
        cases.append((Path("/sys/truecost.csv"),
                      "cannot write /sys/truecost.csv: permission denied"))
    for out, line in cases:
        r = cli("runs", "export", run_id, "-f", "csv", "-o", str(out))
        assert (r.code, r.stdout, r.stderr) == (1, "", f"error: {line}\n")
    assert (tmp_path / "afile").read_text() == "keep me"
    out = tmp_path / "new" / "dir" / "x.parquet"  # missing folders are made
    assert cli("runs", "export", run_id, "-f", "parquet", "-o", str(out)).stdout == f"{out}\n"
    assert [p.name for p in out.parent.iterdir()] == ["x.parquet"]  # no temporary file left


def test_a_store_whose_folder_cannot_be_made_is_one_line(cli, tmp_path, monkeypatch):
    (tmp_path / "afile").write_text("")
    db = tmp_path / "afile" / "sub" / "s.duckdb"
    monkeypatch.setenv("TRUECOST_DB", str(db))
    r = cli("bench", "http://127.0.0.1:9/v1", "--model", "m", "--requests", "2")
    assert (r.code, r.stderr) == (1, f"error: cannot create the folder of the result store {db}: "
                                     f"not a directory; set TRUECOST_DB to a file in a writable "
                                     f"folder\n")


@pytest.mark.parametrize(("lines", "line"), [
    ('{"timestamp": NaN, "input_tokens": 5}', "{p}:1: NaN is not a JSON number; give a finite "
                                              "value"),
    ('{"timestamp": 0, "input_tokens": 1e400}', "{p}:1: input_tokens: Input should be a finite "
                                                "number"),
    # 1e9 s between two logged requests: 31.7 years at speed 1
    ('{"timestamp": 0, "input_tokens": 5}\n{"timestamp": 1e9, "input_tokens": 5}',
     "the replayed log spans 31.7 years at --replay-speed; more than the week one operating point "
     "may run: raise --replay-speed or replay part of the log (--requests)"),
])
def test_replay_logs_are_checked_before_anything_is_sent(cli, tmp_path, lines, line):
    p = tmp_path / "log.jsonl"
    p.write_text(lines + "\n")
    r = cli("bench", "http://127.0.0.1:9/v1", "--model", "m", "--replay", str(p))
    assert (r.code, r.stderr) == (1, f"error: {line.format(p=p)}\n")
