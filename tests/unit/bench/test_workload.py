"""Workloads: length distributions, synthetic prompts (approximate or tokenizer-sized), files."""

import json
import random
import statistics
from dataclasses import dataclass

import pytest

from truecost.bench.workload import Lengths, from_prompts, from_replay, lengths, synthetic
from truecost.errors import InputError


def test_length_specs():
    assert lengths(256) == Lengths("fixed", 256)
    rng = random.Random(0)
    uni = lengths("100-200")
    assert all(100 <= uni.sample(rng) <= 200 for _ in range(1000)) and uni.mean == 150
    normal = [lengths("300:50").sample(rng) for _ in range(5000)]
    assert statistics.fmean(normal) == pytest.approx(300, rel=0.01)  # SE 50/sqrt(5000) = 0.7
    assert min(lengths("2:50").sample(rng) for _ in range(1000)) == 1  # clipped at 1
    assert str(lengths("256:64")) == "256:64"


@pytest.mark.parametrize("spec", ["0", "abc", "9-3", "10:-1", "1-2-3"])
def test_bad_length_specs(spec):
    with pytest.raises(InputError) as e:
        lengths(spec, "input length")
    assert str(e.value) == (f"bad input length '{spec}'; write N (fixed), LOW-HIGH (uniform) or "
                            f"MEAN:SD (normal), all at least 1")


def test_synthetic_prompts_are_seeded_sized_and_share_no_prefix():
    specs = synthetic(50, "64", "16-32", seed=7)
    assert specs == synthetic(50, "64", "16-32", seed=7)
    assert all(len(s.prompt.split()) == s.input_tokens == 64 for s in specs)
    assert all(16 <= s.max_tokens <= 32 for s in specs)
    assert len({tuple(s.prompt.split()[:8]) for s in specs}) == 50  # no shared cache prefix


@dataclass
class ByteTokenizer:
    """One token per UTF-8 byte: a tokenizer whose counts differ from word counts."""

    def encode(self, text: str) -> list[int]:
        return list(text.encode())

    def decode(self, ids: list[int]) -> str:
        return bytes(ids).decode()


def test_a_tokenizer_sizes_prompts_exactly():
    specs = synthetic(5, "100", 8, seed=1, tokenizer=ByteTokenizer())
    assert all(len(s.prompt.encode()) == s.input_tokens == 100 for s in specs)


def write_jsonl(path, rows):
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def test_prompt_files_cycle_and_take_max_tokens_from_the_line(tmp_path):
    f = write_jsonl(tmp_path / "p.jsonl", [{"prompt": "hello there", "max_tokens": 7}, "",
                                           {"messages": [{"role": "user", "content": "hi"}]}])
    specs = from_prompts(f, 5, 32)
    assert [s.max_tokens for s in specs] == [7, 32, 7, 32, 7]
    assert specs[1].messages == ({"role": "user", "content": "hi"},)
    assert specs[0].input_tokens is None  # no tokenizer: the server's count is the truth
    assert from_prompts(f, 1, tokenizer=ByteTokenizer())[0].input_tokens == len("hello there")


@pytest.mark.parametrize(("rows", "message"), [
    (["{oops"], "p.jsonl:1: not JSON (Expecting property name enclosed in double quotes)"),
    ([{"prompt": "a", "temperature": 0}], "p.jsonl:1: unknown key 'temperature'"),
    ([{"prompt": "a", "messages": []}], "p.jsonl:1: give exactly one of 'prompt' and 'messages'"),
    ([{"prompt": "a", "max_tokens": 0}], "p.jsonl:1: max_tokens: Input should be greater than 0"),
    ([""], "p.jsonl: no requests in the file"),
])
def test_bad_prompt_files(tmp_path, monkeypatch, rows, message):
    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "p.jsonl", rows)
    with pytest.raises(InputError) as e:
        from_prompts("p.jsonl", 3)
    assert str(e.value) == message


def test_missing_file(tmp_path):
    with pytest.raises(InputError) as e:
        from_prompts(tmp_path / "none.jsonl", 1)
    assert str(e.value) == f"{tmp_path / 'none.jsonl'}: file not found"


def test_replay_logs_sort_by_time_and_size_prompts(tmp_path):
    f = write_jsonl(tmp_path / "log.jsonl", [
        {"timestamp": "2025-01-01T00:00:02Z", "input_tokens": 30, "output_tokens": 5},
        {"timestamp": "2025-01-01T00:00:00Z", "prompt": "what is it", "output_tokens": 9},
        {"timestamp": 1735689601.5, "messages": [{"role": "user", "content": "x"}]}])
    specs, times = from_replay(f, 64)
    assert times == [1735689600.0, 1735689601.5, 1735689602.0]
    assert [s.max_tokens for s in specs] == [9, 64, 5]
    assert specs[0].prompt == "what is it" and specs[2].input_tokens == 30
    assert len(specs[2].prompt.split()) == 30
