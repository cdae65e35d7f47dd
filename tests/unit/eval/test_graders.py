"""Graders against hand-worked replies, and the Wilson interval against hand arithmetic."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from truecost.eval.graders import (
    choice_letter,
    extract_number,
    grade,
    judge_prompt,
    judge_verdict,
    reference_letter,
    wilson,
)
from truecost.eval.run import reply_text


@pytest.mark.parametrize(("reply", "number"), [
    ("Janet sells 16 - 3 - 4 = 9 eggs.\nShe makes 9 * 2 = $18.\n#### 18", 18),
    ("#### 1,450,000", 1_450_000),  # GSM8K writes thousands separators in 14 answers
    ("He earns $40.00 - $20.00 = $20.00.\n\n#### $20.00", 20),
    ("The result is \\boxed{117}. Checking 3 cases.", 117),  # \boxed wins over a later number
    ("She ends up $-15 ahead... no: #### -15", -15),
    ("steps 1,2,3 then 7", 7),  # a list is not a thousands-separated number
    ("<think>maybe 12? or 13</think>The answer is 14.", 14),  # thinking never counts
    ("<think>it is 12 ... (cut at max_tokens)", None),
    ("no digits here", None),
    ("half is .5", 0.5),
    ("−3 degrees", -3),  # U+2212 minus sign
])
def test_extract_number(reply, number):
    assert extract_number(reply) == number


def test_numeric_grade_tolerance_and_none():
    assert grade("numeric", "#### 18.00", "18").correct
    assert not grade("numeric", "#### 18.01", "18").correct
    assert grade("numeric", "#### 18.01", "18", tolerance=0.02).correct
    g = grade("numeric", "I cannot say", "18")
    assert g.extracted is None and g.correct is False


@pytest.mark.parametrize(("reply", "letter"), [
    ("The answer is (C).", "C"), ("Answer: b", "B"), ("C", "C"), ("**D.**", "D"),
    ("I pick (A) over (B)... final (B)", "B"), ("The answer is E", None),  # only A-D exist
])
def test_choice_letter(reply, letter):
    assert choice_letter(reply, 4) == letter


def test_choice_reference_forms():
    choices = ("4", "6", "7")
    assert reference_letter("c", choices) == "C"
    assert reference_letter(2, choices) == "C"
    assert reference_letter("7", choices) == "C"  # the choice's own text
    with pytest.raises(ValueError, match="not a letter, an index or the text"):
        reference_letter("9", choices)
    assert grade("choice", "Answer: C", "7", choices=choices).correct


def test_exact_and_regex():
    assert grade("exact", "  Paris. ", "paris").correct
    assert grade("exact", "Let me think.\nParis", "Paris").correct  # the last line counts
    assert not grade("exact", "Paris is the capital", "Paris").correct
    g = grade("regex", "It is Canberra, not Sydney.", r"(?i)\bcanberra\b")
    assert g.correct and g.extracted == "Canberra"
    assert grade("judge", "anything", "a criterion").correct is None


def test_judge_verdict_takes_the_last_word():
    assert judge_verdict("The answer keeps the door.\nVERDICT: CORRECT") is True
    assert judge_verdict("At first CORRECT? No.\nVERDICT: INCORRECT") is False
    assert judge_verdict("<think>CORRECT</think>no verdict given") is None
    p = judge_prompt("Q?", "Answer is 2", "<think>hmm 3</think>It is 2")
    assert "Answer is 2" in p and "hmm" not in p and p.endswith("VERDICT: INCORRECT")


def test_wilson_hand_computed():
    # 7 of 10, z = 1.96: p = 0.7, z^2 = 3.8416, denominator 1 + 3.8416/10 = 1.38416;
    # centre = (0.7 + 3.8416/20) / 1.38416 = 0.89208 / 1.38416 = 0.644478;
    # half = 1.96 * sqrt(0.7*0.3/10 + 3.8416/400) / 1.38416 = 1.96 * sqrt(0.030604) / 1.38416
    #      = 1.96 * 0.174940 / 1.38416 = 0.247719  ->  (0.396759, 0.892197).
    lo, hi = wilson(7, 10)
    # the code uses z = 1.959964 rather than 1.96: a 1e-5 difference at these values
    assert lo == pytest.approx(0.396759, abs=5e-5) and hi == pytest.approx(0.892197, abs=5e-5)
    # 0 of 10: the lower end is 0 and the upper z^2 / (n + z^2) = 3.8416 / 13.8416 = 0.27754
    lo, hi = wilson(0, 10)
    assert lo == 0 and hi == pytest.approx(0.27754, abs=5e-5)
    assert wilson(0, 0) is None


@given(st.text(max_size=400))
def test_extract_number_never_raises_and_is_finite(text):
    x = extract_number(text)
    assert x is None or math.isfinite(x)


@given(st.integers(min_value=-10**12, max_value=10**12))
def test_a_formatted_integer_is_read_back(n):
    assert extract_number(f"So the total is {n:,} dollars.") == n
    assert grade("numeric", f"#### {n:,}", str(n)).correct


@given(st.lists(st.binary(max_size=60), max_size=5))
def test_reply_text_never_raises(reads):
    content, reasoning = reply_text(reads)
    assert isinstance(content, str) and isinstance(reasoning, str)


def test_reply_text_chat_and_completions():
    chat = [b'data: {"choices":[{"delta":{"role":"assistant","content":""}}]}\n\n',
            b'data: {"choices":[{"delta":{"reasoning_content":"hm"}}]}\n\ndata: {"choices":[{"de',
            b'lta":{"content":"4"}}]}\r\n\r\ndata: {"choices":[{"delta":{"content":"2"}}]}\n\n',
            b'data: [DONE]\n\n']
    assert reply_text(chat) == ("42", "hm")
    assert reply_text([b'data: {"choices":[{"text":"ok"}]}\n\ndata: not json\n\n']) == ("ok", "")
