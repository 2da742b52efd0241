# Two commands do everything on a fresh machine: `make demo` and `make test`.
# Both create (or reuse) .venv at the repo root and install what they need.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-train
FASHION_MNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
# DATA=skip: never install the Debian package (training then reads Fashion-MNIST from elsewhere)
DATA ?= apt
PYTEST := $(PY) -m pytest -n auto -p no:randomly
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help demo demo-notice demo-setup test test-slow notebooks gpu-check bench setup data clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

demo: demo-notice demo-setup data  ## the main job: §7.1's parameter arithmetic, a short run of one model of five families ranked by validation, the shipped weights re-checked
	$(VENV)/bin/czoo-params --height 1000 --width 1000 --delta 10
	@echo
	$(PY) -m constrained_zoo.training.demo --out runs/demo

test: setup data  ## the test suite, on the TensorFlow backend and then on JAX
	KERAS_BACKEND=tensorflow $(PYTEST) -m "not slow"
	KERAS_BACKEND=jax $(PYTEST) -m "not slow and not tensorflow_only" tests/layers tests/models/test_jit_compile.py

test-slow: setup data  ## the slow tests only (minutes)
	KERAS_BACKEND=tensorflow $(PYTEST) -m slow
	KERAS_BACKEND=jax $(PYTEST) -m slow tests/layers tests/models/test_jit_compile.py

notebooks: setup data  ## re-execute both notebooks in place and save their outputs (a few minutes each on 2 cores)
	cd notebooks && KERAS_BACKEND=tensorflow PYTHONPATH=$(CURDIR)/notebooks$${PYTHONPATH:+:$$PYTHONPATH} \
	  $(abspath $(PY)) -m jupyter execute --inplace --timeout=600 --kernel_name=python3 *.ipynb

gpu-check: setup data  ## one model per family, one epoch, mixed precision and XLA: the devices and step times (GPU_CHECK_ARGS=...)
	$(PY) -m constrained_zoo.training.gpu_check $(GPU_CHECK_ARGS)

bench: setup data  ## the benchmarks of BENCHMARKS.md (about 36 min in BENCHMARKS.md's run on 2 cores; BENCH_ARGS=--quick for about a minute)
	$(PY) -m benchmarks $(BENCH_ARGS)

demo-notice:
	@echo "make demo installs the project with its [train] extra into $(VENV) (pinned by constraints.txt)."
	@if [ "$(DATA)" != skip ] && [ ! -f $(FASHION_MNIST) ] && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "It also installs the Debian package dataset-fashion-mnist with apt-get (make demo DATA=skip does not)."; \
	fi

demo-setup: $(DEMO_STAMP)  ## create or reuse .venv and install what the demo needs (the [train] extra)

$(DEMO_STAMP): setup.cfg pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[train]'
	@touch $@

setup: $(STAMP)  ## create or reuse .venv and install the project with its test extras

$(STAMP): setup.cfg pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	@touch $@

data:  ## Debian's offline copy of Fashion-MNIST, where apt is available and we are root (DATA=skip: not)
	@if [ -f $(FASHION_MNIST) ] || [ "$(DATA)" = skip ]; then \
	  :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "installing dataset-fashion-mnist (Debian) ..."; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null; } \
	    || echo "warning: could not install dataset-fashion-mnist; training falls back to other sources"; \
	else \
	  echo "note: apt-get or root not available: dataset-fashion-mnist not installed"; \
	fi

clean:  ## remove caches (keeps .venv)
	find . -name __pycache__ -prune -exec rm -rf {} + ; rm -rf .pytest_cache *.egg-info
