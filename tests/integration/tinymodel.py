"""A tiny llama-architecture GGUF written from scratch, so integration tests need no download.

The model is a real 2-layer llama (RMSNorm, RoPE attention with GQA, gated SiLU MLP) that
llama.cpp runs like any other GGUF. Its layer weights are random; only the embeddings and the
output head are structured so that generation is *predictable* without being trained:

* every token's embedding points mostly along one basis direction ``e_k`` (k = the index of
  the word that must follow it), and the output head maps ``e_k`` onto word k's logit with a
  large margin. The residual stream is dominated by the embedding because the random layers
  are small (std 0.02), so the argmax survives any sampling settings llama-server uses.
* the words form one cycle, so text never ends and ``max_tokens`` is what stops a request:
  usage.completion_tokens == max_tokens exactly, which the tests assert.
* every generated token is a whole word piece (``▁cost``), never a byte-fallback or control
  token, so one token is one SSE chunk and detokenisation is lossless.
* the words of truecost's synthetic prompts are whole pieces too, so a prompt of N words is about
  N tokens, as with a real BPE vocabulary (other text falls back to characters and bytes).

The tokenizer is SentencePiece-style ("llama" in GGUF terms): <unk>, <s>, </s>, the two ChatML
markers of its chat template, 256 byte-fallback tokens, single characters and every prefix of each
word (llama.cpp's SPM tokenizer merges
adjacent symbols only through pieces that exist, so prefixes keep each word reachable).
Vocabulary ~ 900 pieces. Deliberately left out: merges-based BPE and anything quantised (weights
are f32; the file is ~0.8 MB).
"""

from __future__ import annotations

import string
from pathlib import Path

import numpy as np

# Words the model emits, in no particular order; the generation cycle is a seeded permutation.
WORDS = (
    "cost token price model serve batch cache fast slow cheap query answer "
    "tensor layer weight kernel memory budget latency stream output input "
    "rent own power energy carbon watt hour dollar cloud spot reserve quota"
).split()

N_LAYERS = 2
D_MODEL = 64  # >= len(WORDS): each word needs its own basis direction
N_HEADS = 4
N_KV_HEADS = 2  # GQA, as in every current llama
D_FF = 128
CONTEXT = 4096

_SPACE = "\u2581"  # SentencePiece's word-boundary marker
_CHATML = ("<|im_start|>", "<|im_end|>")  # one token each, as in real ChatML models
CHAT_TEMPLATE = (  # ChatML, the format llama-server also falls back to; written out to pin it
    "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>'"
    " + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
    "{% endif %}")


def _prompt_words() -> tuple[str, ...]:
    """The words truecost's synthetic prompts are made of, as whole pieces, so that a prompt is
    about one token per word here too, as it is with real BPE vocabularies."""
    from truecost.bench import workload

    return tuple(getattr(workload, "_WORDS", ()))


def vocabulary() -> tuple[list[str], list[float], list[int], list[int]]:
    """Pieces, scores, token types and the ids of the emitted words."""
    from gguf import TokenType

    pieces = ["<unk>", "<s>", "</s>", *_CHATML]
    types = [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL] + [TokenType.CONTROL] * 2
    pieces += [f"<0x{b:02X}>" for b in range(256)]
    types += [TokenType.BYTE] * 256
    normal: list[str] = [_SPACE] + list(string.ascii_letters + string.digits + string.punctuation)
    for word in (*WORDS, *_prompt_words()):
        for k in range(1, len(word) + 1):
            normal.append(_SPACE + word[:k])
    normal = list(dict.fromkeys(normal))  # de-duplicate, keep order
    pieces += normal
    types += [TokenType.NORMAL] * len(normal)
    # SPM merges the highest-scoring candidate first; longer pieces score higher so whole words win.
    scores = [0.0] * (len(pieces) - len(normal)) + [float(len(p)) for p in normal]
    word_ids = [pieces.index(_SPACE + w) for w in WORDS]
    return pieces, scores, [int(t) for t in types], word_ids


def write_tiny_llama_gguf(path: Path, seed: int = 0) -> Path:
    """Write the tiny model to ``path`` and return it. Same seed, same bytes."""
    import gguf

    rng = np.random.default_rng(seed)
    pieces, scores, types, word_ids = vocabulary()
    n_vocab = len(pieces)
    n_words = len(WORDS)
    head_dim = D_MODEL // N_HEADS
    assert D_MODEL >= n_words

    # Successor of each word along one cycle; every other token is followed by a seeded word.
    cycle = rng.permutation(n_words)
    successor_word = np.empty(n_vocab, dtype=np.int64)
    successor_word[:] = rng.integers(0, n_words, n_vocab)
    for i in range(n_words):
        successor_word[word_ids[cycle[i]]] = cycle[(i + 1) % n_words]

    basis = np.eye(D_MODEL, dtype=np.float32)
    token_embd = basis[successor_word] + 0.05 * rng.standard_normal((n_vocab, D_MODEL)).astype(
        np.float32
    )
    # Head: word k reads direction e_k with weight 4 (logit ~ 4*sqrt(D) = 32 after RMSNorm);
    # every other row is small noise, so the margin is ~30 nats whatever the temperature.
    output = 0.02 * rng.standard_normal((n_vocab, D_MODEL)).astype(np.float32)
    for k, tid in enumerate(word_ids):
        output[tid] += 4.0 * basis[k]

    def small(*shape: int) -> np.ndarray:
        return (0.02 * rng.standard_normal(shape)).astype(np.float32)

    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("truecost-tiny-llama")
    w.add_context_length(CONTEXT)
    w.add_embedding_length(D_MODEL)
    w.add_block_count(N_LAYERS)
    w.add_feed_forward_length(D_FF)
    w.add_head_count(N_HEADS)
    w.add_head_count_kv(N_KV_HEADS)
    w.add_rope_dimension_count(head_dim)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(n_vocab)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)

    w.add_tokenizer_model("llama")
    w.add_token_list(pieces)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_unk_token_id(0)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_chat_template(CHAT_TEMPLATE)

    # numpy shape is (rows, cols) = (out_features, in_features); GGUF stores it reversed.
    w.add_tensor("token_embd.weight", token_embd)
    w.add_tensor("output_norm.weight", np.ones(D_MODEL, dtype=np.float32))
    w.add_tensor("output.weight", output)
    kv_dim = N_KV_HEADS * head_dim
    for i in range(N_LAYERS):
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(D_MODEL, dtype=np.float32))
        w.add_tensor(f"blk.{i}.attn_q.weight", small(D_MODEL, D_MODEL))
        w.add_tensor(f"blk.{i}.attn_k.weight", small(kv_dim, D_MODEL))
        w.add_tensor(f"blk.{i}.attn_v.weight", small(kv_dim, D_MODEL))
        w.add_tensor(f"blk.{i}.attn_output.weight", small(D_MODEL, D_MODEL))
        w.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(D_MODEL, dtype=np.float32))
        w.add_tensor(f"blk.{i}.ffn_gate.weight", small(D_FF, D_MODEL))
        w.add_tensor(f"blk.{i}.ffn_up.weight", small(D_FF, D_MODEL))
        w.add_tensor(f"blk.{i}.ffn_down.weight", small(D_MODEL, D_FF))

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


if __name__ == "__main__":  # python tests/integration/tinymodel.py out.gguf
    import sys

    print(write_tiny_llama_gguf(Path(sys.argv[1] if len(sys.argv) > 1 else "tiny.gguf")))
