# The commands of this project (see README.md). Each installs what is missing first.
SHELL := /bin/bash
VENV := functions/venv
PY := $(VENV)/bin/python

.PHONY: setup test test-faults lint unit demo bench scale-export clean contract deploy-check

setup:
	@scripts/setup

lint: setup
	$(VENV)/bin/ruff check functions/main.py functions/mediajobs tools tests bench
	$(VENV)/bin/ruff format --check functions/main.py functions/mediajobs tools tests bench
	$(VENV)/bin/mypy
	node_modules/.bin/tsc --noEmit -p contract/tsconfig.json
	node_modules/.bin/tsc --noEmit -p web/tsconfig.json
	node_modules/.bin/tsc --noEmit -p tests/contract_client/tsconfig.json

# Every test (unit, integration, the stack itself) against the real local emulator suite.
test: lint
	./dev exec -- python -m pytest tests $(PYTEST_ARGS)

# Injected faults that need a stack of their own (tests/faults, project demo-mediajobs-faults):
# Storage killed mid-export, the functions' temp disk filling, a hung provider. CI runs it too.
# Mounts a tmpfs (root) and uses fixed paths and a fixed port: one run at a time per machine.
test-faults: setup
	MEDIAJOBS_PROJECT=demo-mediajobs-faults ./dev exec -- python -m pytest tests/faults $(PYTEST_ARGS)

# Offline preflight of `firebase deploy` (tools/deploy_check.py) for PROJECT (default: .firebaserc's):
# the manifest firebase-tools would discover, params, rules, dashboard, models; then the console steps.
deploy-check: setup
	$(PY) tools/deploy_check.py $(if $(PROJECT),--project $(PROJECT))

demo: setup
	./dev exec -- python -m mediajobs.cli demo

# Benchmarks (never part of `make test`): ratios against baselines measured in the same run.
# MEDIAJOBS_RPC_LOG makes every process count its Firestore calls (writes per job item).
bench: setup
	mkdir -p bench/results
	MEDIAJOBS_PROJECT=demo-mediajobs-bench MEDIAJOBS_STORAGE_LATENCY_MS=20 MEDIAJOBS_RPC_LOG=$(CURDIR)/bench/results/rpc.log ./dev exec -- python -m bench $(BENCH_ARGS)

# The local run behind docs/SCALING.md: an export over SCALE_USERS users.
SCALE_USERS ?= 10000
scale-export: setup
	mkdir -p bench/results
	MEDIAJOBS_PROJECT=demo-mediajobs-bench MEDIAJOBS_RPC_LOG=$(CURDIR)/bench/results/rpc.log ./dev exec -- python -m bench.scale_export --users $(SCALE_USERS)

# The client contract: contract/schemas from the code's models, contract/types from those (json2ts).
contract: setup
	cd functions && venv/bin/python -m mediajobs.contract ..

clean:
	rm -rf .cache node_modules $(VENV) functions/models .mypy_cache .ruff_cache .pytest_cache
