"""The SVG charts: tick choice, where marks land, escaping. Oracles are hand arithmetic."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from truecost.report.chart import MARGIN, Axis, Bar, Mark, Series, hbars, log_ticks, money, nice_ticks, number, xy

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    # the chart is an SVG fragment inside HTML: give it its namespace to parse it as XML
    return ET.fromstring(svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))


@pytest.mark.parametrize(("lo", "hi", "expected"), [
    (0, 7.3, [0, 2, 4, 6, 8]),            # raw step 1.46 -> 2
    (0, 0.0065, [0, 0.002, 0.004, 0.006, 0.008]),  # raw 0.0013 -> 0.002
    (-40, 33, [-40, -20, 0, 20, 40]),      # raw 14.6 -> 20; covers both ends
    (0, 1, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),  # raw 0.2 -> 0.2 exactly
])
def test_nice_ticks_cover_the_range_in_1_2_5_steps(lo, hi, expected):
    assert nice_ticks(lo, hi) == pytest.approx(expected)


def test_log_ticks():
    assert log_ticks(0.0036, 0.075) == pytest.approx([0.002, 0.005, 0.01, 0.02, 0.05, 0.1])
    assert log_ticks(3, 4e5) == pytest.approx([1, 10, 100, 1e3, 1e4, 1e5, 1e6])  # 6 decades: 1s only


def test_tick_labels():
    assert [number(x) for x in (0, 0.00036, 1500, 2.5e7, 3e9)] == ["0", "0.00036", "1,500", "25M", "3B"]
    assert [money(x) for x in (0, 0.002, 1.5, 2e7, -40)] == ["$0", "$0.002", "$1.5", "$20M", "-$40"]


def test_bar_lengths_are_proportional_to_values_from_zero():
    svg = hbars([Bar("a", "s", 1.0, "a"), Bar("b", "s", 3.0, "b")], Axis("USD"), title="t")
    rects = [r for r in parse(svg).iter(f"{SVG}rect") if "bar" in r.get("class", "")]
    widths = [float(r.get("width")) for r in rects]
    xs = [float(r.get("x")) for r in rects]
    assert xs[0] == xs[1]  # both start at the 0 line
    assert widths[1] / widths[0] == pytest.approx(3.0, rel=0.01)  # 1 px rounding on ~100 px


def test_negative_bars_extend_left_of_zero():
    svg = hbars([Bar("V1", "m", -20.0, "x"), Bar("V2", "m", 10.0, "y")], Axis("%"), title="t")
    r1, r2 = [r for r in parse(svg).iter(f"{SVG}rect") if "bar" in r.get("class", "")]
    zero = float(r2.get("x"))
    assert float(r1.get("x")) + float(r1.get("width")) == pytest.approx(zero, abs=0.11)
    assert float(r1.get("width")) / float(r2.get("width")) == pytest.approx(2.0, rel=0.01)


def test_points_land_on_their_coordinates():
    width, height = 600, 340
    svg = xy([Series("s", (Mark(0, 0, "origin"), Mark(10, 100, "top")))], Axis("x"), Axis("y"),
             title="t", width=width, height=height)
    c0, c1 = list(parse(svg).iter(f"{SVG}circle"))
    # x: 0 -> left margin, 10 -> right edge (ticks 0..10 in steps of 2); y: 100 -> top margin
    assert float(c0.get("cx")) == pytest.approx(MARGIN["left"], abs=0.06)
    assert float(c1.get("cx")) == pytest.approx(width - MARGIN["right"], abs=0.06)
    assert float(c1.get("cy")) == pytest.approx(MARGIN["top"], abs=0.06)
    assert c1.get("data-tip") == "s: top"


def test_log_axis_drops_non_positive_values_and_places_decades_evenly():
    svg = xy([Series("s", (Mark(0, 1, "zero"), Mark(0.01, 1, "a"), Mark(0.1, 1, "b"),
                           Mark(1, 1, "c")), line=False)], Axis("x", log=True), Axis("y"), title="t")
    cx = [float(c.get("cx")) for c in parse(svg).iter(f"{SVG}circle")]
    assert len(cx) == 3  # $0 has no place on a log axis
    assert cx[1] - cx[0] == pytest.approx(cx[2] - cx[1], abs=0.11)


def test_labels_are_escaped():
    evil = '</svg><script>alert("x")</script>'
    svg = hbars([Bar(evil, evil, 1.0, evil)], Axis(evil), title=evil)
    assert "<script>" not in svg
    root = parse(svg)  # still well-formed
    assert any(evil == r.get("data-tip") for r in root.iter(f"{SVG}rect"))


def test_a_cdf_is_a_staircase():
    svg = xy([Series("c", (Mark(1, 0, ""), Mark(2, 0.5, ""), Mark(3, 1, "")), step=True, dots=False)],
             Axis("ms"), Axis("share", lo=0, hi=1), title="t")
    d = next(p for p in parse(svg).iter(f"{SVG}path")).get("d")
    assert re.fullmatch(r"M[\d.]+,[\d.]+(H[\d.]+V[\d.]+){2}", d)
