# Waterworks — the two commands: `make run` and `make test`.
# Setup is shared: a .venv made with venv + pip, the project installed editable with pinned versions.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

# Offline by construction: no model hub, no Public Suffix List fetch, no telemetry.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS :=
export DAGSTER_DISABLE_TELEMETRY := 1
export MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR := false

.PHONY: setup run test ui mlflow-ui serve lint bench-setup clean
setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $(STAMP)

run: setup            ## generate the demo estate if landing is empty, then materialize the plant through Dagster
	$(BIN)/waterworks run

test: setup           ## the test suite (first the system packages it needs: .ci/system-packages)
	@./.ci/system-packages
	$(BIN)/python -m pytest

ui: setup             ## Dagster UI + daemon on http://127.0.0.1:3000 (WATERWORKS_DAGSTER_UI_PORT)
	$(BIN)/waterworks ui

mlflow-ui: setup      ## MLflow UI on http://127.0.0.1:5000 (WATERWORKS_MLFLOW_UI_PORT)
	$(BIN)/waterworks mlflow-ui

serve: setup         ## the intent classifier's champion over HTTP on http://127.0.0.1:5001/invocations
	$(BIN)/waterworks serve

lint: setup
	$(BIN)/ruff check .

bench-setup: setup   ## the peers the benchmarks in bench/ measure against (datatrove); not needed to run or test
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev,bench]'

clean:                ## remove all local state (landing, lake, Dagster and MLflow stores); keeps .venv
	rm -rf .waterworks
