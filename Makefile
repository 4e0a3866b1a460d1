# drstack: every target installs what it needs first, so each works on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
AZURITE := .tools/node_modules/.bin/azurite
AZURITE_VERSION := 3.35.0
STACKS := seoul tokyo azure-pilot azure-pilot-backup seoul-aurora tokyo-aurora
DR_STACKS := tokyo azure-pilot tokyo-aurora
# Debian packages for detection (observability/) and the architecture diagrams.
MONITORING_PACKAGES := prometheus prometheus-alertmanager prometheus-blackbox-exporter prometheus-mysqld-exporter graphviz
MONITORING_BINARIES := prometheus promtool prometheus-alertmanager prometheus-blackbox-exporter prometheus-mysqld-exporter dot
DEMO_DIR := demo-output

.PHONY: install services preview test lint format drill demo bench clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

# Real servers for the tests and the sandbox: MariaDB from Debian, Azurite from npm.
services: $(AZURITE)
	@command -v mariadbd >/dev/null 2>&1 || command -v /usr/sbin/mariadbd >/dev/null 2>&1 || { \
	  echo "installing MariaDB from Debian"; \
	  $(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq mariadb-server mariadb-client >/dev/null; }
	@missing=""; for b in $(MONITORING_BINARIES); do command -v $$b >/dev/null 2>&1 || missing=1; done; \
	  [ -z "$$missing" ] || { echo "installing Prometheus, Alertmanager, exporters, graphviz from Debian"; \
	  $(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq --no-install-recommends $(MONITORING_PACKAGES) >/dev/null; }

$(AZURITE):
	mkdir -p .tools
	npm install --prefix .tools --no-audit --no-fund --silent azurite@$(AZURITE_VERSION)

preview: install
	@for s in $(STACKS); do [ -f Pulumi.$$s.yaml ] || continue; echo "=== drctl preview --stack $$s"; $(BIN)/drctl preview --stack $$s || exit 1; done

test: install services
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

drill: install services
	$(BIN)/drctl drill --sandbox

# Architecture diagrams (PNG) and DR plans for the shipped stacks, then the drill.
demo: preview services
	mkdir -p $(DEMO_DIR)
	@for s in $(STACKS); do [ -f Pulumi.$$s.yaml ] || continue; $(BIN)/drctl diagram --stack $$s --output $(DEMO_DIR)/architecture-$$s.png || exit 1; done
	@for s in $(DR_STACKS); do $(BIN)/drctl plan --stack $$s --output $(DEMO_DIR)/dr-plan-$$s.md || exit 1; done
	$(MAKE) drill

bench: install services
	$(BIN)/python -m benchmarks.run --binlog

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache build *.egg-info $(DEMO_DIR)
