# The two set-up commands of README.md: `make demo` and `make test`.
PY := .venv/bin/python
DEMO_DIR ?= runs/demo

.PHONY: install demo test test-fast lint bench

install:
	bash scripts/install.sh

demo: install
	bash scripts/demo.sh $(DEMO_DIR)

# The whole suite (engines started for real); two processes on two cores.
test: install
	$(PY) -m pytest -q -n 2 --dist loadfile

test-fast: install
	$(PY) -m pytest -q -n 2 --dist loadfile -m "not slow"

lint: install
	.venv/bin/ruff check src tests benchmarks
	.venv/bin/ruff format --check src tests benchmarks

bench: install
	.venv/bin/zeroforge bench --doc
