# One task runner: `make run`, `make test`, `make lint`, `make bench`.
VENV := .venv
PYTHON := $(VENV)/bin/python
TEST_DATA_DIR ?= $(CURDIR)/.data/test

.PHONY: run test lint format bench clean

$(VENV)/.runtime: requirements.txt
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PYTHON) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	$(PYTHON) -m nexus_project.launcher

test: $(VENV)/.dev
	NEXUS_DATA_DIR=$(TEST_DATA_DIR) $(PYTHON) -m nexus_project.embedded -- $(PYTHON) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_SECRET_KEY=lint $(PYTHON) manage.py makemigrations --check --dry-run

format: $(VENV)/.dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) .data
