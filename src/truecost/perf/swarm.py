"""Petals-style swarms: one model split into consecutive slices of layers over N servers that talk
over the internet (pipeline parallelism across machines), each server one GPU.

The client holds the embedding and the LM head and sends the hidden states of each step through
the chain of servers (Borzunov et al. 2022, arXiv:2209.01188; 2023, arXiv:2312.08361). With
``k_i`` layers on server ``i``, ``s_i`` the share of its time this swarm's users get, and the
per-step model of ``roofline.step_time`` for those layers (``stage_i``; the per-layer overhead
scales with the slice, the fixed per-step overhead is paid on every server; no LM head on servers):

    decode step (one sequence) = Σ_i stage_i(1) / s_i + Σ_i hop_i(D·2 bytes) + client LM head
    prefill (TTFT)             = Σ_i prefill_i(ISL) / s_i + Σ_i hop_i(ISL·D·2 bytes) + client LM head
                                 + the engine's request overhead

Hops: ``relay`` routing (Petals as published: the client sends each server its input and reads
its output, petals issue #226) costs one client round trip per server, ``rtt + 2·bytes/bw``;
``direct`` routing (server-to-server, petals PR #331) costs half a round trip per edge of the
chain client → s1 → … → sN → client plus ``bytes/bw`` each.

Layers are balanced by speed: ``k_i ∝ s_i / t_layer_i`` (the decode time of one layer on that
server), capped by what each server's memory holds (weights of its layers plus the KV cache of
one sequence), as Petals' load balancing equalises the servers' throughput.

Many sequences (independent clients) fill the pipeline: C sequences in G = min(C, N) groups, one
group per stage, so one round, in which every sequence makes a token, takes

    round(C) = max(traversal of one group, G × the slowest server's stage for one group)
    tokens/s = C / round(C)

C is capped by the KV cache each server holds for its layers. ``share`` < 1 stretches a server's
stages by 1/share: the server is time-sliced between this swarm's users and others (no
batching across them; conservative). Cost: rented GPUs at their marketplace rent, or volunteers
at the electricity of their modelled board power (``perf/power.py``), both × share. Left out:
server failures and re-routing (Petals' fault tolerance), speculative decoding, activation
compression on the wire, queueing between groups beyond the pipeline formula.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from .. import catalog
from ..arch import ModelArch
from ..errors import DoesNotFitError, InputError
from ..hardware import BYTES_PER_ELEM, GPU, Precision, PrecisionName
from ..provenance import Provenance
from .deployment import HALF_BYTES, Deployment
from .engine import EngineProfile, engine as find_engine
from .links import Client, Link, client_device, link, param
from .memory import admission_context
from .power import step_power
from .roofline import ACTIVATION_BYTES, StepTime, causal_pairs, step_time

__all__ = ["Server", "Slice", "SwarmEstimate", "estimate_swarm", "parse_servers", "slice_model"]

Routing = Literal["relay", "direct"]
Basis = Literal["rent", "volunteer"]
HOURS = 3600.0


@dataclass(frozen=True, slots=True)
class Server:
    """One server of the swarm: its GPU, the share of its time this swarm gets, and optionally
    its own link to the client (relay) or to the previous server (direct) and its own rent."""

    gpu: GPU
    share: float = 1.0
    link: Link | None = None
    usd_per_gpu_hour: float | None = None


def parse_servers(spec: str | list[str | GPU | Server], *, share: float = 1.0) -> list[Server]:
    """``"4x rtx-4090, 2x rtx-3090"`` (or a list of GPU names / ``Server``s) as servers."""
    items: list[str | GPU | Server] = [p for p in re.split(r"\s*,\s*", spec.strip())] if isinstance(spec, str) \
        else list(spec)
    out: list[Server] = []
    for item in items:
        if isinstance(item, Server):
            out.append(item)
            continue
        if isinstance(item, GPU):
            out.append(Server(item, share))
            continue
        m = re.fullmatch(r"(?:(\d+)\s*x\s*)?(\S+)", item.strip())
        if not item.strip() or m is None:
            raise InputError(f"cannot read the servers '{spec}'; write them as '4x rtx-4090' or "
                             "'2x rtx-3090, 1x a100-80gb'")
        n = int(m.group(1) or 1)
        if not 1 <= n <= 1000:
            raise InputError(f"a swarm has 1 to 1000 servers of a kind, got {n} in '{item.strip()}'")
        out.extend([Server(catalog.gpu(m.group(2)), share)] * n)
    if not out:
        raise InputError("a swarm needs at least one server, e.g. --swarm '4x rtx-4090'")
    if len(out) > 1000:
        raise InputError(f"a swarm has at most 1000 servers, got {len(out)}")
    for s in out:
        if not (0 < s.share <= 1):
            raise InputError(f"--share must be within (0, 1] (the share of each server's time), got {s.share:g}")
    return out


def slice_model(m: ModelArch, first: int, layers: int) -> ModelArch:
    """``layers`` consecutive transformer layers of ``m`` from layer ``first``, as a model of their
    own (so every per-layer term of the roofline scales with the slice). MoE dense layers come
    first in the stack."""
    data = m.model_dump()
    data.update(key=f"{m.key}[{first}:{first + layers}]", layers=layers, published_params_total=None,
                published_params_active=None)
    if m.moe is not None:
        data["moe"]["dense_layers"] = max(0, min(first + layers, m.moe.dense_layers) - first)
    return ModelArch.model_validate(data)


@dataclass(frozen=True, slots=True)
class Slice:
    """One server's part of the chain, at the estimate's lengths. Times include its share."""

    server: int
    gpu: str
    first_layer: int
    layers: int
    share: float
    weights_bytes: float
    kv_bytes_per_sequence: float
    max_sequences: int
    decode_s: float  # one step of one sequence
    prefill_s: float  # the ISL-token prompt
    hop_s: float  # the network hop of one decode step (one token)
    watts: float | None  # modelled board power while decoding, None without a published TDP
    link: str


@dataclass(frozen=True)
class SwarmEstimate:
    """Modelled swarm (see the module docstring). Times in seconds, money in USD."""

    model: str
    precision: str
    engine: str
    routing: Routing
    network: str
    server_network: str
    client: str
    isl: int
    osl: int
    slices: list[Slice]
    decode_step_s: float  # one sequence alone: Σ compute + Σ hops + client
    breakdown_s: dict[str, float]  # compute, network, client of that step
    tokens_per_s: float  # one sequence: 1 / decode_step_s
    ttft_s: float
    max_sequences: int  # the most sequences whose KV every server holds
    concurrency: int  # sequences of the batch figures (max_sequences unless given)
    batch_round_s: float  # one token for every sequence, pipelined
    batch_tokens_per_s: float
    binding: str  # what dominates the single-sequence step: compute, network or client
    basis: Basis
    usd_per_hour: float | None
    usd_per_mtok: float | None  # one sequence alone
    usd_per_mtok_batch: float | None  # at ``concurrency``
    cost_note: str
    provenance: Provenance
    notes: list[str] = field(default_factory=list)

    @property
    def servers(self) -> int:
        return len(self.slices)

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["slices"] = [{f.name: getattr(s, f.name) for f in fields(s)} for s in self.slices]
        d["provenance"] = str(self.provenance)
        return d


@dataclass(frozen=True, slots=True)
class _Stage:
    dep: Deployment
    share: float
    link: Link  # to the client (relay), or into this server (direct)
    own_link: bool  # the server has its own link, not the swarm's defaults

    def decode(self, seqs: float, context: float) -> StepTime:
        return step_time(self.dep, seqs, context)

    def decode_s(self, seqs: float, context: float) -> float:
        return _without_lm_head(self.decode(seqs, context)) / self.share

    def prefill_s(self, tokens: float) -> float:
        return _without_lm_head(step_time(self.dep, 0, 0, tokens, causal_pairs(tokens), 1)) / self.share


def _without_lm_head(st: StepTime) -> float:
    """A server's stage: the step without the LM head, which the client runs."""
    return st.total_s - (st.ops["lm_head"].time_s if "lm_head" in st.ops else 0.0)


def _layer_bytes(dep: Deployment) -> float:
    """Weights a slice holds: its linear layers and norms (the embedding stays on the client)."""
    return (dep.dense_params * dep.dense_weight_bytes + dep.routed_expert_params * dep.precision.weight_bytes
            + dep.model.params.norms * HALF_BYTES)


def _deployment(m: ModelArch, gpu: GPU, precision: str, eng: EngineProfile, first: int, layers: int) -> Deployment:
    try:
        prec = Precision.named(precision, gpu)
    except ValueError:
        raise InputError(f"unknown precision '{precision}'; choose one of "
                         f"{', '.join(p.value for p in PrecisionName if p.value != 'native')}") from None
    return Deployment(slice_model(m, first, layers), gpu, prec, 1, eng)


def _balance(total: int, speeds: list[float], caps: list[int]) -> list[int]:
    """Integer layers per server, proportional to ``speeds`` and at most ``caps``, summing to
    ``total`` (water-filling: servers whose proportional share exceeds their cap get the cap, the
    rest share what is left; then the largest remainders get the leftover layers)."""
    k = [0.0] * len(speeds)
    free = [i for i in range(len(speeds)) if caps[i] > 0]
    left = float(total)
    while free:
        unit = left / sum(speeds[i] for i in free)
        capped = [i for i in free if unit * speeds[i] >= caps[i]]
        if not capped:
            for i in free:
                k[i] = unit * speeds[i]
            break
        for i in capped:
            k[i], left = float(caps[i]), left - caps[i]
            free.remove(i)
    out = [min(int(math.floor(x + 1e-9)), caps[i]) for i, x in enumerate(k)]
    order = sorted(range(len(k)), key=lambda i: (k[i] - out[i], speeds[i]), reverse=True)
    while sum(out) < total:
        for i in order:
            if sum(out) < total and out[i] < caps[i]:
                out[i] += 1
    return out


def _hops(stages: list[_Stage], tokens: float, d_model: int, routing: Routing, client_link: Link,
          server_link: Link) -> list[float]:
    """Network time of one pass of ``tokens`` tokens' hidden states, per server (direct routing
    adds the last server's reply to the client to its hop)."""
    nbytes = tokens * d_model * ACTIVATION_BYTES
    if routing == "relay":
        return [s.link.request_s(nbytes, nbytes) for s in stages]
    out = []
    for i, s in enumerate(stages):
        into = s.link if (i == 0 or s.own_link) else server_link
        out.append(into.one_way_s(nbytes))
    out[-1] += client_link.one_way_s(nbytes)
    return out


def estimate_swarm(model: str | ModelArch, servers: str | list[str | GPU | Server], *,
                   precision: PrecisionName | str = "int8", engine: str | EngineProfile = "petals",
                   isl: int = 1000, osl: int = 200, network: str | Link = "same-region",
                   server_network: str | Link | None = None, routing: Routing = "relay",
                   client: str | GPU = "cpu", share: float = 1.0, basis: Basis = "rent",
                   concurrency: int | None = None) -> SwarmEstimate:
    """A swarm serving ``model`` on ``servers`` (``"4x rtx-4090"``, or a list), each holding a
    balanced slice of the layers at ``precision`` (Petals serves ``int8``, LLM.int8(), and ``int4``,
    NF4). ``share`` is the share of time of servers given by name (a ``Server`` carries its own).
    ``network`` is the client↔server link (``same-region``, ``cross-continent``, ``lan`` or a
    ``Link``), ``server_network`` the server↔server one (default: the same; used by ``direct``
    routing). ``basis``: ``rent`` (marketplace rent) or ``volunteer`` (electricity only). Batch
    figures at ``concurrency`` sequences (default: the most that fit).

        >>> e = estimate_swarm("llama-2-70b", "3x a100-80gb", precision="int4")  # doctest: +SKIP
        >>> round(e.tokens_per_s, 1), e.binding  # doctest: +SKIP
    """
    m = catalog.model(model)
    eng = find_engine(engine)
    prec_name = precision.value if isinstance(precision, PrecisionName) else str(precision).lower()
    if prec_name == "native":
        prec_name = m.native_dtype
    for name, v in (("isl", isl), ("osl", osl)):
        if v < 1:
            raise InputError(f"--{name} must be at least 1 token, got {v}")
    if isl + osl > m.max_context:
        raise InputError(f"isl+osl = {isl + osl} exceeds {m.key}'s context of {m.max_context} tokens")
    if routing not in ("relay", "direct"):
        raise InputError(f"routing must be relay or direct, got '{routing}'")
    if basis not in ("rent", "volunteer"):
        raise InputError(f"a swarm's cost basis is rent or volunteer, got '{basis}'")
    if concurrency is not None and concurrency < 1:
        raise InputError(f"--concurrency must be at least 1, got {concurrency}")
    srv = parse_servers(servers, share=share) if isinstance(servers, str) else parse_servers(
        [s if isinstance(s, Server) else catalog.gpu(s) for s in servers], share=share)
    client_link = link(network)
    server_link = client_link if server_network is None else link(server_network)
    dev: Client = client_device(client, memory_efficiency=eng.memory_efficiency,
                                compute_efficiency=eng.matmul_efficiency("bf16"))
    ctx_mean = isl + osl / 2
    ctx_admit = admission_context(_deployment(m, srv[0].gpu, prec_name, eng, 0, 1), isl, osl)

    # Layers each server can hold (weights + one sequence's KV per layer), and its speed per layer,
    # from one layer of the kind most layers are: the last (an MoE model's dense layers come first,
    # and an expert layer holds many times their weights, so its caps are the safe side).
    reserve = eng.runtime_reserve_gib * 2**30
    caps, speeds = [], []
    for s in srv:
        one = _deployment(m, s.gpu, prec_name, eng, m.layers - 1, 1)
        per_layer = _layer_bytes(one) + one.model.kv_bytes(ctx_admit, one.precision.kv_bytes) / eng.kv_memory_fraction
        caps.append(max(0, int((s.gpu.memory_bytes - reserve) // per_layer)))
        t_layer = _without_lm_head(step_time(one, 1, ctx_mean)) - eng.step_overhead_fixed_s
        speeds.append(s.share / max(t_layer, 1e-12))
    if sum(caps) < m.layers:
        whole = _deployment(m, srv[0].gpu, prec_name, eng, 0, m.layers)
        need = _layer_bytes(whole) + reserve * len(srv)
        have = sum(s.gpu.memory_bytes for s in srv)
        raise DoesNotFitError(
            f"{m.key} at {prec_name} does not fit on {len(srv)} server(s): its {m.layers} layers need "
            f"{need / 1e9:,.1f} GB with the runtime reserve (+ KV), the GPUs hold {have / 1e9:,.1f} GB; "
            f"they fit {sum(caps)} layers. Add servers"
            + (" or use a smaller precision (int4)"
               if whole.precision.weight_bytes > BYTES_PER_ELEM["int4"] else ""))
    layers = _balance(m.layers, speeds, caps)

    stages: list[_Stage] = []
    slices_meta = []
    first = 0
    for i, (s, k) in enumerate(zip(srv, layers)):
        if k == 0:
            continue
        dep = _deployment(m, s.gpu, prec_name, eng, first, k)
        stages.append(_Stage(dep, s.share, s.link or client_link, s.link is not None))
        slices_meta.append((i, s, first, k))
        first += k
    notes = []
    if len(stages) < len(srv):
        notes.append(f"{len(srv) - len(stages)} server(s) got no layers (too small or too slow beside the others)")

    # Memory: sequences whose KV each server holds beside its weights.
    pools = []
    for st in stages:
        pool = max(st.dep.gpu.memory_bytes - reserve - _layer_bytes(st.dep), 0.0) * eng.kv_memory_fraction
        per_seq = st.dep.model.kv_bytes(ctx_admit, st.dep.precision.kv_bytes)
        pools.append((pool, per_seq, int(pool // per_seq)))
    max_seqs = min(min(p[2] for p in pools), eng.max_batch_size)
    if max_seqs < 1:  # the layer caps leave room for one sequence; rounding could still take it
        raise DoesNotFitError(f"{m.key}: a server holds its layers but not one {ctx_admit:,.0f}-token sequence's "
                              "KV cache beside them; add servers or use a shorter context")
    c_batch = max_seqs if concurrency is None else concurrency
    if concurrency is not None and concurrency > max_seqs:
        notes.append(f"concurrency {concurrency} exceeds the {max_seqs} sequences whose KV every server holds")

    d = m.d_model
    decode = [st.decode_s(1, ctx_mean) for st in stages]
    hops = _hops(stages, 1, d, routing, client_link, server_link)
    client_s = dev.lm_head_s(m.vocab, d, 1)
    step = sum(decode) + sum(hops) + client_s
    prefill = sum(st.prefill_s(isl) for st in stages) + sum(_hops(stages, isl, d, routing, client_link, server_link))
    ttft = eng.request_overhead_s + prefill + client_s

    def round_s(c: int) -> float:
        groups = min(c, len(stages))
        b = c / groups
        traversal = (sum(st.decode_s(b, ctx_mean) for st in stages)
                     + sum(_hops(stages, b, d, routing, client_link, server_link)) + dev.lm_head_s(m.vocab, d, b))
        busiest = max(max(st.decode_s(b, ctx_mean) for st in stages),
                      max(2 * b * d * ACTIVATION_BYTES / st.link.bytes_per_s for st in stages))
        return max(traversal, groups * busiest)

    batch_round = round_s(c_batch)
    terms = {"compute": sum(decode), "network": sum(hops), "client": client_s}
    binding = max(terms, key=terms.__getitem__)

    slices = []
    for (i, s, first_layer, k), st, dec, hop, (pool, per_seq, cap) in zip(slices_meta, stages, decode, hops, pools):
        draw = step_power(st.dep, st.decode(1, ctx_mean))
        slices.append(Slice(i, s.gpu.key, first_layer, k, s.share, _layer_bytes(st.dep), per_seq, cap, dec,
                            st.prefill_s(isl), hop, None if draw is None else draw.watts_per_gpu,
                            st.link.describe()))
    usd_h, cost_note = _hourly(srv, slices_meta, slices, basis)
    per_mtok = (lambda tps: None if usd_h is None else usd_h / HOURS / tps * 1e6)
    prov = Provenance("modelled", f"swarm: roofline per slice ({eng.key}: {eng.source}@{eng.retrieved}) + "
                      f"network {client_link.provenance} + client {dev.provenance}; model {m.source}@{m.retrieved}")
    est = SwarmEstimate(
        model=m.key, precision=prec_name, engine=eng.key, routing=routing, network=client_link.describe(),
        server_network=server_link.describe(), client=dev.name, isl=isl, osl=osl, slices=slices,
        decode_step_s=step, breakdown_s=terms, tokens_per_s=1 / step, ttft_s=ttft, max_sequences=max_seqs,
        concurrency=c_batch, batch_round_s=batch_round, batch_tokens_per_s=c_batch / batch_round, binding=binding,
        basis=basis, usd_per_hour=usd_h, usd_per_mtok=per_mtok(1 / step),
        usd_per_mtok_batch=per_mtok(c_batch / batch_round), cost_note=cost_note, provenance=prov, notes=notes)
    return est


def _hourly(srv: list[Server], meta: list, slices: list[Slice], basis: Basis) -> tuple[float | None, str]:
    """$/hour of the swarm's servers, each × its share: rent, or a volunteer's electricity."""
    if basis == "rent":
        total, missing = 0.0, []
        for (i, s, _, _) in meta:
            rate = s.usd_per_gpu_hour if s.usd_per_gpu_hour is not None else s.gpu.usd_per_gpu_hour
            if rate is None:
                missing.append(s.gpu.key)
                continue
            total += rate * s.share
        if missing:  # performance stands without a price; compare() refuses to rank it
            return None, (f"{missing[0]} has no public rent in the catalog; give usd_per_gpu_hour "
                          "or price the swarm as volunteers (basis volunteer)")
        shares = sorted({s.share for (_, s, _, _) in meta})
        src = sorted({s.gpu.price_source for (_, s, _, _) in meta if s.usd_per_gpu_hour is None})
        return total, (f"rented: marketplace rent x share {'/'.join(f'{x:g}' for x in shares)} "
                       f"({'; '.join(src) or 'given'})")
    kwh, kwh_src = param("volunteer_usd_per_kwh")
    pue, _ = param("volunteer_pue")
    watts = [sl.watts for sl in slices]
    if any(w is None for w in watts):
        raise InputError("a volunteer swarm is priced at its modelled power; a server GPU has no published TDP")
    total = sum(w * sl.share for w, sl in zip(watts, slices)) / 1000 * pue * kwh  # type: ignore[operator]
    return total, (f"volunteers: electricity only, modelled board power x share x PUE {pue:g} x "
                   f"${kwh:g}/kWh ({kwh_src}); hardware, internet and the volunteers' time unpriced")
