# One task runner: `make run`, `make test`, `make lint`, `make bench`.
VENV := .venv
PYTHON := $(VENV)/bin/python
TEST_DATA_DIR ?= $(CURDIR)/.data/test

# Debian packages the tests need: espeak-ng makes the speech fixtures, chromium runs the widget,
# docker-compose validates docker/compose.yaml (`config` needs no Docker engine).
SYSTEM_PACKAGES := espeak-ng chromium docker-compose

.PHONY: run test lint format bench clean system-packages

$(VENV)/.runtime: requirements.txt
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PYTHON) -m pip install --quiet -r requirements-dev.txt
	touch $@

# RUN_ARGS=--reset-examples applies the example tenants' configs again, over admins' changes;
# RUN_ARGS=--sidecar-emulator also runs the PersonaPlex emulator as the sidecar pool.
run: $(VENV)/.runtime
	$(PYTHON) -m nexus_project.launcher $(RUN_ARGS)

system-packages:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages: $$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		{ $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; } \
		|| { echo "Could not install $$missing: install them (apt-get install $$missing) and run again."; exit 1; }; \
	fi

test: $(VENV)/.dev system-packages
	NEXUS_DATA_DIR=$(TEST_DATA_DIR) $(PYTHON) -m nexus_project.embedded -- $(PYTHON) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_SECRET_KEY=lint $(VENV)/bin/mypy
	DJANGO_SECRET_KEY=lint $(PYTHON) manage.py makemigrations --check --dry-run

format: $(VENV)/.dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The voice bridge under load, against the budgets of ARCHITECTURE.md (it reports, never fails on a
# figure). BENCH_ARGS: --calls N (50), --seconds S (30), --soak-minutes M (0: off). Of the system
# packages it needs only espeak-ng (the VAD measurement's speech).
bench: $(VENV)/.dev
	@$(MAKE) --no-print-directory system-packages SYSTEM_PACKAGES=espeak-ng
	NEXUS_DATA_DIR=$(CURDIR)/.data/bench $(PYTHON) -m nexus_project.embedded -- $(PYTHON) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .data
