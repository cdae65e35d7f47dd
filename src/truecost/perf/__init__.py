"""Analytic performance model of LLM serving: memory plan, per-step roofline, continuous batching.

``engine``   named efficiency terms of a serving engine (calibratable), from a TOML catalog
``roofline`` the time of one engine step (decode batch + prefill chunk), with its breakdown
``memory``   weights, KV cache, and how many sequences fit
``serving``  continuous-batching steady state: throughput, TTFT, TPOT at a concurrency or rate
"""
