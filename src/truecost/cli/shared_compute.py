"""Rendering of shared compute: a swarm (``estimate --swarm``), offloading (``estimate --offload``)
and a consortium (``train --consortium``). Key/value tables that fit 80 columns (numbers never
wrap; notes fold), the per-server table fitted by leaving low-priority columns out with a note,
notes and provenance wrapped (all through ``cli/tables.py``)."""

from __future__ import annotations

from ..consortium import Consortium
from ..perf.offload import OffloadEstimate
from ..perf.swarm import SwarmEstimate
from .catalog import render_table
from .format import gbytes, seconds, usd
from .output import out_console
from .tables import Col, print_figures, print_lines


def _kv(title: str, rows: list[tuple[str, str, str]]) -> None:
    print_figures(out_console(), rows, title=title)


def _lines(*lines: str) -> None:
    con = out_console()
    for line in lines:
        print_lines(con, line)


def _rate(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:,.2f}"


def _mtok(single: float | None, batch: float | None) -> str:
    return "-" if single is None else f"{usd(single)} alone, {usd(batch)} at batch"


def render_swarm(e: SwarmEstimate) -> None:
    b = e.breakdown_s
    _kv(f"{e.model} swarm of {e.servers} servers ({e.precision}), ISL {e.isl} / OSL {e.osl}, engine {e.engine}", [
        ("decode step", seconds(e.decode_step_s),
         f"one sequence: compute {b['compute'] * 1e3:.1f} + network {b['network'] * 1e3:.1f} + client "
         f"{b['client'] * 1e3:.1f} ms"),
        ("tokens/s", _rate(e.tokens_per_s), "one sequence (steps/s)"),
        ("TTFT", seconds(e.ttft_s), "prompt through the chain, alone"),
        ("max sequences", f"{e.max_sequences:,}", "KV every server holds"),
        ("batch tokens/s", _rate(e.batch_tokens_per_s), f"{e.concurrency:,} sequences, pipelined"),
        ("$/hour", usd(e.usd_per_hour), e.basis),
        ("$/1M tokens", "-" if e.usd_per_mtok is None else usd(e.usd_per_mtok_batch),
         _mtok(e.usd_per_mtok, e.usd_per_mtok_batch)),
        ("binding", e.binding, "of the one-sequence step"),
    ])
    cols = [Col("#", 0), Col("gpu", 1, "left"), Col("layers"), Col("share", 4), Col("weights", 3),
            Col("decode"), Col("hop"), Col("max seqs", 2)]
    rows = [[str(s.server + 1), s.gpu, f"{s.first_layer}-{s.first_layer + s.layers - 1}", f"{s.share:g}",
             gbytes(s.weights_bytes), seconds(s.decode_s), seconds(s.hop_s), f"{s.max_sequences:,}"]
            for s in e.slices]
    render_table(cols, rows, footer=[
        f"network: {e.routing} routing; client<->server {e.network}; server<->server {e.server_network}; "
        f"LM head on the client ({e.client})",
        f"cost: {e.cost_note}",
        *(f"note: {n}" for n in e.notes),
        f"provenance: {e.provenance}"])


def render_offload(e: OffloadEstimate) -> None:
    _kv(f"{e.model} on 1x {e.gpu} + {e.host_ram_gb:g} GB RAM ({e.precision}), ISL {e.isl} / OSL {e.osl}", [
        ("weights", gbytes(e.weights_bytes), f"{gbytes(e.resident_bytes)} on the GPU, "
                                             f"{gbytes(e.offloaded_bytes)} streamed"),
        ("host link", f"{e.host_link_bytes_per_s / 1e9:.1f} GB/s", f"{e.host_link}, achieved"),
        ("decode step", seconds(e.decode_step_s),
         f"stream {seconds(e.stream_s)} {'||' if e.overlap else '+'} compute {seconds(e.compute_s)}"),
        ("tokens/s", _rate(e.tokens_per_s), "one sequence"),
        ("TTFT", seconds(e.ttft_s), "prompt, streaming weights per chunk"),
        ("batch tokens/s", _rate(e.batch_tokens_per_s), f"{e.batch:,} sequences"),
        ("$/hour", usd(e.usd_per_hour), e.basis),
        ("$/1M tokens", "-" if e.usd_per_mtok is None else usd(e.usd_per_mtok_batch),
         _mtok(e.usd_per_mtok, e.usd_per_mtok_batch)),
        ("binding", e.binding, "of the one-sequence step"),
    ])
    _lines(f"cost: {e.cost_note}", *(f"note: {n}" for n in e.notes), f"provenance: {e.provenance}")


def render_consortium(c: Consortium) -> None:
    est = c.estimate
    f, m = c.shared_rnd.value, est.rnd_multiplier.value
    _kv(f"Consortium of {c.members} labs sharing {f:.0%} of R&D: {est.compute.model}, {est.gpu}, "
        f"{est.basis.value}", [
        ("final run", usd(c.final_run_usd), "each member trains its own"),
        ("R&D alone", usd(c.rnd_usd), f"final run x (R&D multiplier {m:.2f} - 1)"),
        ("alone", usd(c.alone_usd), "final run + all its R&D"),
        ("member", usd(c.member_usd), f"run + {1 - f:.0%} of R&D + {f:.0%} of R&D / {c.members}"),
        ("saving/member", usd(c.saving_per_member_usd), f"{c.saving_per_member_usd / c.alone_usd:.1%} of alone"),
        ("consortium saving", usd(c.consortium_saving_usd), f"all {c.members} members"),
        ("floor", usd(c.floor_usd), "a member's cost however many join"),
        *([("break-even N", "-" if c.break_even_members is None else f"{c.break_even_members:,}",
            f"members for a member's cost <= {usd(c.budget_usd)}" if c.break_even_members is not None
            else f"no N: the floor exceeds {usd(c.budget_usd)}")] if c.budget_usd is not None else []),
    ])
    _lines(f"shared R&D {f:g}: {c.shared_rnd.provenance}; {c.shared_rnd_note}",
           f"R&D multiplier {m:.2f}: {est.rnd_multiplier.provenance}",
           f"final run: {est.usd.provenance}; {est.gpu_hours.value:,.0f} GPU-hours")
