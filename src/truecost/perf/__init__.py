"""Analytic performance model of LLM serving: memory plan, per-step roofline, continuous batching.

``engine``   named efficiency terms of a serving engine (calibratable), from a TOML catalog
``deployment`` a replica (GPUs, layout, precision, engine); ``Deployments``: many as arrays
``elementwise`` max/min/where for numbers or arrays, so each formula serves one deployment or many
``roofline`` the time of one engine step (decode batch + prefill chunk), with its breakdown
``memory``   weights, KV cache, and how many sequences fit
``serving``  continuous-batching steady state: throughput, TTFT, TPOT at a concurrency or rate
``steps``    the roofline step time tabulated for fast repeated use
``traffic``  arrival processes (closed loop, Poisson, replay, ...) and length distributions
``simulate`` discrete-event simulation of one replica: TTFT/TPOT/ITL/E2E percentiles, goodput
"""
