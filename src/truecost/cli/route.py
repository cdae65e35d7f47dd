"""`truecost route simulate OUTCOMES...`: what a mix of models would score and cost. A thin
client of ``truecost.simulate_route``; the table (or ``--json``) on stdout, notes on stderr."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import InputError
from ..eval.graders import wilson
from ..route import RouteResult, simulate_route
from .format import usd
from .output import emit, out_console
from .tables import Col, print_lines, print_table

route_app = typer.Typer(help="Routing what-ifs over per-question outcomes of several models.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    if not any(g.name == "route" for g in app.registered_groups):  # main() may run again
        app.add_typer(route_app, name="route")


def parse_pairs(values: list[str] | None, what: str) -> dict[str, str]:
    out = {}
    for v in values or []:
        key, sep, value = v.rpartition("=")
        if not sep or not key or not value:
            raise InputError(f"{what} takes MODEL=VALUE, got '{v}'")
        out[key] = value
    return out


def parse_number(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InputError(f"{what} needs a number, got '{text}'") from None


def parse_tokens(text: str, what: str = "--tokens") -> tuple[float, float]:
    i, sep, o = text.partition(":")
    if not sep:
        raise InputError(f"{what} takes MODEL=IN:OUT (tokens per task), got '{text}'")
    return parse_number(i, what), parse_number(o, what)


@route_app.command("simulate")
def simulate(
    outcomes: Annotated[list[str], typer.Argument(help="Eval run ids and/or CSV files (one "
                                                  "True/False column per model).")],
    usd_per_task: Annotated[list[str] | None, typer.Option(
        "--usd-per-task", help="A model's $ per task: MODEL=0.002 (repeat per model).")] = None,
    offer: Annotated[list[str] | None, typer.Option(
        help="Price a model's tokens with an API offer: MODEL=PROVIDER/MODEL.")] = None,
    tokens: Annotated[list[str] | None, typer.Option(
        help="Tokens per task for --offer on a CSV: MODEL=IN:OUT.")] = None,
    cheap: Annotated[str | None, typer.Option(help="The cheap model (default: lowest "
                                              "$/task).")] = None,
    strong: Annotated[str | None, typer.Option(help="The strong model (default: most "
                                               "accurate).")] = None,
    cheap_sample: Annotated[str | None, typer.Option(help="A second eval run of the cheap "
                                                     "model: cascade when they disagree.")] = None,
    score: Annotated[str | None, typer.Option(help="CSV score column: cascade when below a "
                                              "threshold (swept).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """Each model alone, random mixes, cascades and the oracle, with RouteLLM's measures."""
    result = simulate_route(
        outcomes, usd_per_task={k: parse_number(v, "--usd-per-task") for k, v in
                                parse_pairs(usd_per_task, "--usd-per-task").items()},
        offers=dict(parse_pairs(offer, "--offer")),
        tokens={k: parse_tokens(v) for k, v in parse_pairs(tokens, "--tokens").items()},
        cheap=cheap, strong=strong, cheap_sample=cheap_sample, score=score)
    emit(result, json_out, render)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def render(r: RouteResult) -> None:
    con = out_console()
    print_lines(con, f"routing over {r.questions:,} questions answered by every model:")
    for m in r.models:
        role = "cheap" if m.name == r.cheap else "strong" if m.name == r.strong else "other"
        lo, hi = wilson(sum(m.correct), len(m.correct)) or (0.0, 0.0)
        cost = f", {usd(m.usd_per_task)}/task" if m.usd_per_task is not None else ""
        print_lines(con, f"  {role + ':':7} {m.name}")
        print_lines(con, f"          {m.accuracy:.1%} correct (95% CI {lo:.1%}-{hi:.1%}){cost}")
    rows = []
    for p in r.points:
        label = p.label
        if p.policy == "alone":
            name = label.removesuffix(" alone")
            label = ("cheap alone" if name == r.cheap else "strong alone" if name == r.strong
                     else label)
        rows.append([label, _pct(p.strong_share), _pct(p.accuracy), usd(p.usd_per_task),
                     usd(p.usd_per_correct)])
    con.print()
    print_table(con, [Col("policy", 0, "left", wrap=True), Col("strong calls", 1), Col("accuracy", 1),
                      Col("$/task", 1), Col("$/correct", 2)], rows)
    con.print()
    print_table(con, [Col("curve", 0, "left"), Col("APGR", 1), Col("CPT(50%)", 1), Col("CPT(80%)", 1),
                      Col("$ saved at\nstrong-1pt", 1)],
                [[c.policy, "-" if c.apgr is None else f"{c.apgr:.3f}", _pct(c.cpt50), _pct(c.cpt80),
                  _pct(c.usd_saved_within_1pt)] for c in r.curves],
                title="RouteLLM's measures (Ong et al. 2024)")
    con.print()
    print_lines(con, "random: the expected accuracy and $ of sending that share of questions to the "
                     "strong model at random. cascade: the cheap model answers all, the strong one "
                     "those the signal flags (both paid). oracle: the cheapest correct model per "
                     "question, a bound. $ saved at strong-1pt: share of the strong model's $/task "
                     "saved by the curve's cheapest point within 1 accuracy point of it.")
    for m in r.models:
        price = f"; price {m.price}" if m.price else ""
        print_lines(con, f"{m.name}: outcomes {m.source}{price}.")
