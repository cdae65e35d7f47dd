# Two commands do all set-up on a fresh machine with Python 3.11:
#   make demo   -> installs into .venv, then runs `truecost compare examples/chat-assistant.toml`
#   make test   -> installs into .venv (with test extras, and builds llama-server for the
#                  integration tests), then runs the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test install install-test clean mutation

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

install-test: $(BIN)/python $(BIN)/llama-server
	$(BIN)/python -m pip install --quiet -e '.[test]'

demo: install
	$(BIN)/truecost compare examples/chat-assistant.toml

test: install-test
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) .pytest_cache mutants

# Mutation testing of the core formulas (issue 13). Not in CI (too slow for 2 cores). Each module
# of `only_mutate` ([tool.mutmut] in pyproject.toml) is mutated against its own test files
# (mutation/modules.toml), one module at a time; records in mutation/results/ are reused while the
# module and its tests are unchanged. `make mutation ONLY='src/truecost/perf/*'` runs some modules,
# `make mutation FRESH=1` re-runs every one; mutation/all.py prints the score and every survivor,
# and fails under 90% (mutation/README.md).
ONLY ?=
FRESH ?=
mutation: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,mutation]'
	$(BIN)/python mutation/all.py $(if $(FRESH),--fresh) $(if $(ONLY),--only '$(ONLY)')

# The real inference server of tests/integration: llama.cpp's llama-server, compiled once from the
# source pinned (by hash) in tests/integration/llama-cpp-source.txt. cmake and ninja come from
# PyPI; a C++ compiler must be installed. Measured on a shared 2-core machine: 10.5 min in all
# (benchmarks/build_time.sh).
# Only the llama-server target is built (no tests, examples, web UI, curl or OpenSSL); -O1 instead
# of -O3 because compile time, not the tiny test model's speed, is what CI waits for.
LLAMA_SRC  = $(VENV)/llama.cpp
LLAMA_OPT ?= -O1 -DNDEBUG
LLAMA_CMAKE_ARGS = -G Ninja -DCMAKE_MAKE_PROGRAM=$(abspath $(BIN))/ninja \
	-DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="$(LLAMA_OPT)" \
	-DCMAKE_CXX_FLAGS_RELEASE="$(LLAMA_OPT)" -DBUILD_SHARED_LIBS=OFF -DGGML_CCACHE=OFF \
	-DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
	-DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF

$(BIN)/llama-server: tests/integration/llama-cpp-source.txt | $(BIN)/python
	@command -v c++ >/dev/null || command -v g++ >/dev/null || command -v clang++ >/dev/null || \
	  { echo "error: building llama-server needs a C++ compiler (Debian/Ubuntu: apt-get install g++)" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet "cmake>=3.28,<5" "ninja>=1.11"
	rm -rf $(LLAMA_SRC) && mkdir -p $(LLAMA_SRC)
	$(BIN)/python -m pip download --quiet --no-deps --no-binary :all: --require-hashes \
	  -r tests/integration/llama-cpp-source.txt -d $(LLAMA_SRC)
	tar -xzf $(LLAMA_SRC)/llama_cpp_python-*.tar.gz -C $(LLAMA_SRC) --strip-components=1
	$(BIN)/cmake -S $(LLAMA_SRC)/vendor/llama.cpp -B $(LLAMA_SRC)/build $(LLAMA_CMAKE_ARGS) \
	  > $(LLAMA_SRC)/configure.log
	$(BIN)/cmake --build $(LLAMA_SRC)/build --target llama-server
	cp $(LLAMA_SRC)/build/bin/llama-server $@
	rm -rf $(LLAMA_SRC)
