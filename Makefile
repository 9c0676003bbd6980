# yiciban — two commands set everything up on a fresh machine:
#   make run    virtualenv + pinned dependencies + migrated SQLite + demo data, serves :8000
#   make test   the whole suite on SQLite and PostgreSQL, browser tests, lint
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test venv lint format clean bench messages lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installed packages are tracked by a stamp that depends on the lock files.
$(VENV)/.installed: $(BIN)/python requirements.lock requirements-dev.lock pyproject.toml
	$(BIN)/pip install --quiet -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

venv: $(VENV)/.installed

run: venv
	$(BIN)/yiciban setup --demo
	@echo "Serving http://$(HOST):$(PORT)  (Ctrl-C to stop)"
	$(BIN)/yiciban serve --host $(HOST) --port $(PORT) --with-worker

test: venv
	@bash scripts/test-all.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lock: venv
	$(BIN)/python scripts/lock.py

# Regenerate the English catalogue after adding Chinese msgids; translate the new entries
# in src/yiciban/locale/en/LC_MESSAGES/django.po, then run this again to compile.
messages: venv
	cd src/yiciban && ../../$(BIN)/yiciban makemessages -l en --ignore "*/migrations/*" --no-location && ../../$(BIN)/yiciban compilemessages -l en

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
