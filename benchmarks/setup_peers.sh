#!/usr/bin/env bash
# Install the harnesses truecost is compared with, each in its own venv under benchmarks/.venv/
# (ignored by git), so they never touch the project's dependencies:
#   benchmarks/.venv/guidellm   guidellm (vllm-project/guidellm)
#   benchmarks/.venv/aiperf     aiperf (ai-dynamo/aiperf)
#   benchmarks/.venv/tokenizer  a local word-level Hugging Face tokenizer: both peers need one to
#                               make prompts, and the benchmark must not download one
#
# guidellm depends on torch. Plain pip on Linux fetches the CUDA build (~3 GB); TORCH_PIP_ARGS
# chooses another, by default the CPU build from PyTorch's own index. Offline mirror example:
#   TORCH_PIP_ARGS=/path/to/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
GUIDELLM_VERSION=${GUIDELLM_VERSION:-0.8.1}
AIPERF_VERSION=${AIPERF_VERSION:-0.13.0}
TORCH_PIP_ARGS=${TORCH_PIP_ARGS:-torch --index-url https://download.pytorch.org/whl/cpu}
V=.venv
mkdir -p "$V"

if [ ! -x "$V/guidellm/bin/guidellm" ]; then
  "$PYTHON" -m venv "$V/guidellm"
  # shellcheck disable=SC2086  # TORCH_PIP_ARGS is a list of pip arguments
  "$V/guidellm/bin/pip" install --quiet $TORCH_PIP_ARGS
  "$V/guidellm/bin/pip" install --quiet "guidellm==$GUIDELLM_VERSION"
fi
if [ ! -x "$V/aiperf/bin/aiperf" ]; then
  "$PYTHON" -m venv "$V/aiperf"
  "$V/aiperf/bin/pip" install --quiet "aiperf==$AIPERF_VERSION"
fi
if [ ! -f "$V/tokenizer/tokenizer.json" ]; then
  "$V/guidellm/bin/python" - "$V/tokenizer" <<'EOF'
import sys
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

# One token per word of a small closed vocabulary; anything else is <unk>. The benchmark server
# ignores prompts, so only the token counts the peers compute from it matter.
words = "tok the of and to in is was for that on as with by he at from".split()
vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
for w in words + [f"w{i}" for i in range(256)]:
    vocab.setdefault(w, len(vocab))
tk = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
tk.pre_tokenizer = pre_tokenizers.Whitespace()
tk.decoder = decoders.WordPiece(prefix="##")
PreTrainedTokenizerFast(tokenizer_object=tk, unk_token="<unk>", bos_token="<s>",
                        eos_token="</s>").save_pretrained(sys.argv[1])
EOF
fi
echo "guidellm: $("$V/guidellm/bin/pip" show guidellm | sed -n 's/^Version: //p'), aiperf: $("$V/aiperf/bin/pip" show aiperf | sed -n 's/^Version: //p')"
