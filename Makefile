# Everything a fresh machine with only Python needs: `make run` and `make test`
# create .venv, install loyaldsl with its test dependencies, then do their job.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test check generate bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The main job on a real example: check every program, then run the coffee shop's
# purchases and show the balances.
run: install
	$(BIN)/loyaldsl check programs/*.loyal
	$(BIN)/loyaldsl run programs/capsboutique.loyal programs/capsboutique.events.jsonl

# The whole suite, with hypothesis bounded by the `ci` profile.
test: install
	HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest

check: install
	$(BIN)/loyaldsl check programs/*.loyal

# Recompile every program into generated/ (a test fails when one is stale).
generate: install
	for program in programs/*.loyal; do \
	  $(BIN)/loyaldsl compile $$program -o generated/$$(basename $$program .loyal).py || exit 1; \
	done

# Throughput of hand-written, compiled and interpreted engines, in one run.
bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
