"""Graders against hand-worked replies, and the Wilson interval against hand arithmetic."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from truecost.eval.graders import (
    Grade,
    choice_letter,
    extract_number,
    grade,
    judge_prompt,
    judge_verdict,
    normalise,
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


# ---- every rule's edges, by hand -----------------------------------------------------------------

def test_thinking_is_cut_and_text_normalised():
    assert grade("exact", "<think>it is Rome?</think>Paris", "paris") == Grade("paris", True)
    assert normalise("  New \t York  ") == "new york"  # inner runs of whitespace become one space
    assert normalise('"Paris"') == "paris" and normalise("**Paris**") == "paris" and normalise("`x`") == "x"
    assert normalise("Paris!") == "paris" and normalise("Paris.") == "paris"


def test_numeric_tolerance_and_the_extracted_text():
    # default tolerance 1e-6 × max(1, |ref|): 10 for a reference of 1e7, 1e-6 for 1
    assert grade("numeric", "#### 10000009", "10000000") == Grade("10000009", True)
    assert grade("numeric", "#### 10000011", "10000000") == Grade("10000011", False)
    assert grade("numeric", "#### 1.0000015", "1") == Grade("1.0000015", False)
    assert grade("numeric", "#### 1.0000005", "1").correct is True
    # an explicit tolerance is inclusive: |1.5 − 1| = 0.5 <= 0.5
    assert grade("numeric", "#### 1.5", "1", tolerance=0.5).correct is True
    assert grade("numeric", "#### 1.5", "1", tolerance=0.4999).correct is False
    # shown as an integer below 1e15, else Python's repr
    assert grade("numeric", "#### 18.00", "18").extracted == "18"
    assert grade("numeric", "#### 2.5", "2.5").extracted == "2.5"
    assert grade("numeric", "#### 999999999999999", "0").extracted == "999999999999999"
    assert grade("numeric", "#### 1000000000000000", "0").extracted == "1000000000000000.0"
    with pytest.raises(ValueError) as e:
        grade("numeric", "1", "abc")
    assert str(e.value) == "numeric reference 'abc' is not a number"


def test_choice_edges():
    three = ("red", "green", "blue")
    assert reference_letter(0, three) == "A" and reference_letter(2, three) == "C"
    for bad in (3, -1):
        with pytest.raises(ValueError) as e:
            reference_letter(bad, three)
        assert str(e.value) == f"choice answer {bad} is not a letter, an index or the text of one of the 3 choices"
    # a letter past the choices is no answer, even when the reference is a valid one
    assert grade("choice", "Answer: E", "A", choices=three) == Grade(None, False)
    assert grade("choice", "Answer: B", 1, choices=three) == Grade("B", True)


def test_exact_whole_reply_or_last_line():
    assert grade("exact", "", "x") == Grade(None, False)  # nothing to grade, no crash
    assert grade("exact", "  \n \n", "x") == Grade(None, False)
    assert grade("exact", "I think\nParis", "paris") == Grade("paris", True)  # the last line
    assert grade("exact", "New\nYork", "new york") == Grade("new york", True)  # the whole reply
    assert grade("exact", "Paris.", "paris") == Grade("paris", True)
    assert grade("exact", "I think\nRome", "paris") == Grade("rome", False)


def test_regex_without_a_match_and_an_unknown_grader():
    assert grade("regex", "no digits here", r"\d+") == Grade(None, False)
    assert grade("regex", "it is 42 then", r"\d+") == Grade("42", True)
    with pytest.raises(ValueError) as e:
        grade("vibes", "x", "y")
    assert str(e.value) == "unknown grader 'vibes'; use one of numeric, choice, exact, regex, judge"


def test_judge_prompt_holds_the_question_criterion_and_answer_without_thinking():
    prompt = judge_prompt("What is 2+2?", "says 4", "<think>hmm</think> It is 4. ")
    assert prompt == (
        "You grade an answer to a question against a criterion. Judge only whether the answer meets "
        "the criterion; ignore style and length.\n\n"
        "Question:\nWhat is 2+2?\n\nCriterion:\nsays 4\n\nAnswer:\nIt is 4.\n\n"
        "End your reply with exactly one line: VERDICT: CORRECT or VERDICT: INCORRECT")


def test_wilson_edges():
    z = 1.959963984540054
    # one trial, one success: centre (1 + z²/2) / (1 + z²), half z·sqrt(z²/4) / (1 + z²)
    lo, hi = wilson(1, 1)
    assert lo == pytest.approx((1 + z * z / 2 - z * z / 2) / (1 + z * z), rel=1e-12)  # 1/(1+z²) = 0.2065
    assert hi == 1.0
    assert wilson(5, 5)[1] == 1.0  # all correct: allowed, and the upper end is 1
    # at n = 16 the closed form rounds to 1.0000000000000002: clamped to 1 (a share is <= 1)
    assert wilson(16, 16)[1] == 1.0
    assert wilson(0, 21)[0] == 0.0  # and at n = 21 to -1.4e-17 at the bottom: clamped to 0
    with pytest.raises(ValueError) as e:
        wilson(6, 5)
    assert str(e.value) == "6 correct out of 5"
