"""Suite loading: JSONL lines (bad ones named and skipped), the built-in GSM8K subset and the
TokenEconomy prompts, and the GSM8K download (from a loopback server, never the internet)."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from truecost.errors import CatalogError, EndpointError, InputError
from truecost.eval import suites
from truecost.eval.suites import load_suite

from ...conftest import REPO


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_bad_lines_are_named_and_the_others_kept(tmp_path):
    f = _write(tmp_path / "s.jsonl", [
        '{"id": 1, "question": "6 x 7?", "answer": 42, "grader": "numeric", "domain": "math"}',
        '{"id": 2, "question": "Capital?", "answer": "Paris", "grader": "exakt"}',
        'not json',
        '',
        '{"id": 3, "question": "Prime?", "choices": ["4", "7"], "answer": "B", "grader": "choice"}',
        '{"id": 1, "question": "again", "answer": 1, "grader": "numeric"}',
        '{"id": 4, "question": "x", "answer": "(", "grader": "regex"}',
        '{"id": 5, "question": "x", "answer": "five", "grader": "numeric"}',
        '{"id": 6, "question": "x", "answer": "A", "grader": "choice"}',
        '{"id": 7, "question": "x", "answer": "1", "grader": "numeric", "colour": "red"}',
    ])
    s = load_suite(f)
    assert [q.id for q in s.questions] == ["1", "3"]
    assert s.questions[0].domain == "math" and s.questions[1].domain == "general"
    assert s.questions[1].prompt == "Prime?\n\nA. 4\nB. 7\n\nAnswer with the letter of the correct choice."
    assert [p.split(": ", 1)[0] for p in s.problems] == [f"{f}:{n}" for n in (2, 3, 6, 7, 8, 9, 10)]
    assert "grader" in s.problems[0]
    assert "duplicate id '1'" in s.problems[2]
    assert "regular expression" in s.problems[3]
    assert "not a number" in s.problems[4]
    assert "needs 'choices'" in s.problems[5]
    assert "unknown key 'colour'" in s.problems[6]


def test_bytes_that_are_not_text_are_a_named_problem(tmp_path):
    f = tmp_path / "mixed.jsonl"
    f.write_bytes(b'\xff\xfe\x00garbage\n{"id": 1, "question": "q", "answer": 1, "grader": "numeric"}\n')
    s = load_suite(f)
    assert [q.id for q in s.questions] == ["1"] and s.problems == (f"{f}:1: not UTF-8 text",)
    g = tmp_path / "bin.jsonl"
    g.write_bytes(b"\xff\xfe")
    with pytest.raises(CatalogError, match="not UTF-8 text; give the GSM8K test file"):
        load_suite(f"gsm8k:{g}")


def test_a_suite_of_only_bad_lines_is_an_error(tmp_path):
    f = _write(tmp_path / "bad.jsonl", ["[1, 2]"])
    with pytest.raises(CatalogError, match=r"bad.jsonl: no usable questions; first problem: .*:1: not a JSON object"):
        load_suite(f)
    with pytest.raises(InputError, match="neither a file nor a built-in suite"):
        load_suite(tmp_path / "missing.jsonl")


def test_gsm8k_300_is_the_first_rows_of_the_test_split():
    s = load_suite("gsm8k-300")
    assert len(s.questions) == 300
    first = s.questions[0]
    # row 0 of the GSM8K test split: Janet's ducks, "#### 18"
    assert first.id == "gsm8k-test-0" and first.answer == "18" and "Janet" in first.question
    assert first.grader == "numeric" and first.domain == "math"
    assert first.prompt.endswith("#### <number>")
    assert s.questions[299].id == "gsm8k-test-299"
    # every reference is the text after the last '####' of the file's own answer, commas dropped
    raw = (REPO / "src/truecost/eval/data/gsm8k_test_300.jsonl").read_text().splitlines()
    for q, line in zip(s.questions, raw):
        assert q.answer == json.loads(line)["answer"].split("####")[-1].strip().replace(",", "")


def test_gsm8k_local_copy(tmp_path):
    f = _write(tmp_path / "test.jsonl", [
        json.dumps({"question": "a?", "answer": "work\n#### 1,200"}),
        json.dumps({"question": "b?", "answer": "no marker"}),
    ])
    s = load_suite(f"gsm8k:{f}")
    assert [(q.id, q.answer) for q in s.questions] == [("gsm8k-test-0", "1200")]
    assert s.problems == (f"{f}:2: not a GSM8K line ({{\"question\", \"answer\": \"... #### N\"}})",)


def test_token_economy_prompts_and_criteria():
    s = load_suite("token-economy")
    assert len(s.questions) == 19  # the study's 19 prompts
    by_id = {q.id: q for q in s.questions}
    # criteria as published in TokenEconomyDataset_V1.json: "Answer is 220", "Answer is 41", ...
    assert (by_id["AIME2023II_P1"].grader, by_id["AIME2023II_P1"].answer) == ("numeric", "220")
    assert by_id["AIME2025I_P2_modified"].answer == "41"
    assert by_id["train_distance"].answer == "150"  # "Answer is 150 kilometers"
    assert by_id["capital_of_australia"].grader == "regex"
    assert sum(q.grader == "judge" for q in s.questions) == 8  # the 8 logic puzzles need a judge
    assert by_id["monty_hall_inverse"].answer == "Answer states to keep the existing door"
    assert {q.domain for q in s.questions} == {"knowledge", "math", "logic_puzzle"}


class _Files(http.server.BaseHTTPRequestHandler):
    body = b""
    hits = 0

    def do_GET(self):  # noqa: N802 - the stdlib's name
        type(self).hits += 1
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def file_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_gsm8k_download_checks_the_hash_and_caches(file_server, monkeypatch):
    body = (REPO / "src/truecost/eval/data/gsm8k_test_300.jsonl").read_bytes()
    _Files.body, _Files.hits = body, 0
    url = f"http://127.0.0.1:{file_server.server_address[1]}/test.jsonl"
    monkeypatch.setattr(suites, "GSM8K_URL", url)
    monkeypatch.setattr(suites, "GSM8K_SHA256", hashlib.sha256(body).hexdigest())
    s = load_suite("gsm8k")
    assert len(s.questions) == 300 and s.questions[0].answer == "18" and _Files.hits == 1
    assert load_suite("gsm8k").questions[1].id == "gsm8k-test-1" and _Files.hits == 1  # cached
    monkeypatch.setattr(suites, "GSM8K_SHA256", "0" * 64)  # the cache no longer matches
    with pytest.raises(EndpointError, match=r"is not the pinned GSM8K test split \(SHA-256 differs\)"):
        load_suite("gsm8k")


def test_gsm8k_download_offline(monkeypatch):
    monkeypatch.setattr(suites, "GSM8K_URL", "http://127.0.0.1:9/test.jsonl")  # discard port
    with pytest.raises(EndpointError, match="cannot download the GSM8K test split .* use the "
                                            "shipped gsm8k-300"):
        load_suite("gsm8k")


_JSONISH = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                     st.text(max_size=20), st.lists(st.text(max_size=5), max_size=3))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(
    st.binary(max_size=40),
    st.dictionaries(st.sampled_from(["id", "question", "answer", "grader", "domain", "choices",
                                     "tolerance", "extra"]), _JSONISH, max_size=8).map(
        lambda d: json.dumps(d).encode())), max_size=6))
def test_any_file_loads_or_fails_with_one_line(tmp_path, lines):
    f = tmp_path / "h.jsonl"
    f.write_bytes(b"\n".join(line.replace(b"\n", b" ") for line in lines))
    try:
        s = load_suite(f)
    except CatalogError as e:
        assert "\n" not in str(e)
        return
    assert all("\n" not in p for p in s.problems)
    for q in s.questions:
        assert q.prompt and q.grader in ("numeric", "choice", "exact", "regex", "judge")


# ---- every suite's name and source, and each parser's edges, by hand ------------------------------

def test_built_in_suites_say_what_they_are_and_where_they_come_from():
    s = load_suite("gsm8k-300")
    assert (s.name, s.source, len(s.questions), s.problems) == (
        "gsm8k-300", "GSM8K test split, first 300 rows (shipped; MIT licence)", 300, ())
    q = s.questions[0]  # GSM8K test row 0: Janet's ducks, 16 - 3 - 4 = 9 eggs x $2 = $18
    assert (q.id, q.answer, q.grader, q.domain, q.instruction) == (
        "gsm8k-test-0", "18", "numeric", "math", suites.GSM8K_INSTRUCTION)
    t = load_suite("token-economy")
    assert (t.name, t.source, len(t.questions), t.problems) == (
        "token-economy", "TokenEconomy prompts (cpldcpu/LRMTokenEconomy @d5cc353, 2025-08-07; Apache-2.0)", 19, ())


def test_gsm8k_download_names_its_url(tmp_path, monkeypatch):
    local = _write(tmp_path / "t.jsonl", [json.dumps({"question": "1+1?", "answer": "so\n#### 2"})])
    monkeypatch.setattr(suites, "_download_gsm8k", lambda: local)
    s = load_suite("gsm8k")
    assert (s.name, s.source) == ("gsm8k", f"GSM8K test split ({suites.GSM8K_URL})")


def test_gsm8k_lines_by_hand(tmp_path):
    path = _write(tmp_path / "g.jsonl", [
        json.dumps({"question": "Q0", "answer": "work #### 12 then #### 1,234"}),  # the last #### counts
        json.dumps({"question": "  ", "answer": "#### 3"}),  # an empty question
        json.dumps({"question": "Q2", "answer": "#### three"}),  # not a number
        json.dumps({"question": "Q3", "answer": "#### 7"}),
    ])
    s = load_suite(f"gsm8k:{path}")
    assert (s.name, s.source) == ("gsm8k", f"GSM8K test split (local copy {path})")
    assert [(q.id, q.question, q.answer) for q in s.questions] == [("gsm8k-test-0", "Q0", "1234"),
                                                                    ("gsm8k-test-3", "Q3", "7")]
    bad = '({"question", "answer": "... #### N"})'
    assert s.problems == (f"{path}:2: not a GSM8K line {bad}", f"{path}:3: not a GSM8K line {bad}")
    missing = tmp_path / "missing.jsonl"
    with pytest.raises(CatalogError) as e:
        load_suite(f"gsm8k:{missing}")
    assert str(e.value) == f"{missing}: cannot read: No such file or directory"
    none = _write(tmp_path / "none.jsonl", [json.dumps({"question": "Q", "answer": "no hashes"})])
    with pytest.raises(CatalogError) as e:
        load_suite(f"gsm8k:{none}")
    assert str(e.value) == f"{none}: no GSM8K questions found"


def test_jsonl_suites_by_hand(tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_bytes(b'{"id": 1, "question": "Q1", "answer": 2.5, "grader": "numeric", "tolerance": 0.1}\n'
                     b"\xff\xfe\n"
                     b'{"id": "c", "question": "Pick", "answer": "B", "grader": "choice", "choices": ["x", "y"]}\n')
    s = load_suite(path)
    assert (s.name, s.source) == ("mine", str(path))
    assert s.problems == (f"{path}:2: not UTF-8 text",)  # and the line after it is still read
    (a, b) = s.questions
    assert (a.id, a.answer, a.tolerance, a.choices, a.domain) == ("1", "2.5", 0.1, (), "general")
    assert (b.id, b.choices, b.tolerance) == ("c", ("x", "y"), None)
    missing = tmp_path / "missing.jsonl"
    with pytest.raises(InputError) as e:
        load_suite(missing)
    assert str(e.value) == (f"suite '{missing}' is neither a file nor a built-in suite; give a JSONL file or "
                            "one of gsm8k, gsm8k-300, token-economy, gsm8k:PATH")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(CatalogError) as e:
        load_suite(empty)
    assert str(e.value) == f"{empty}: no usable questions"


def test_digest_domains_and_an_answer_glued_to_its_hashes(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"id": "a", "question": "Q", "answer": "1", "grader": "numeric", "domain": "z"}\n'
                    '{"id": "b", "question": "R", "answer": "x", "grader": "exact", "domain": "m", "tolerance": null}\n')
    s = load_suite(path)
    assert s.domains() == ["m", "z"]
    # the documented fingerprint: sha256 over json [id, prompt, answer, grader, tolerance] per
    # question, its first 16 hex digits
    h = hashlib.sha256()
    h.update(json.dumps(["a", "Q", "1", "numeric", None]).encode())
    h.update(json.dumps(["b", "R", "x", "exact", None]).encode())
    assert s.digest == h.hexdigest()[:16]
    g = _write(tmp_path / "g.jsonl", [json.dumps({"question": "Q", "answer": "so####12"})])
    assert load_suite(f"gsm8k:{g}").questions[0].answer == "12"  # no space after ####
