# fairsite: `make run` serves the demo fair, `make test` runs the whole suite.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
export FLASK_APP := fairsite.app

.PHONY: run test lint install demo bench clean messages

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# A random secret key and this machine's address, written once: the app refuses to start with
# the default key or without SITE_ADDRESS (the address QR codes and share links carry).
instance/config.py:
	mkdir -p instance
	$(BIN)/python -c "import secrets; print(f'SECRET_KEY = {secrets.token_hex(32)!r}')" > $@
	echo 'SITE_ADDRESS = "http://127.0.0.1:8000"' >> $@

demo: install instance/config.py
	$(BIN)/flask init
	$(BIN)/flask demo

run: demo
	@echo "fairsite: http://127.0.0.1:8000  (Ctrl-C stops it)"
	$(BIN)/gunicorn -c gunicorn.conf.py --no-control-socket wsgi:app

lint: install
	$(BIN)/ruff check fairsite tests bench wsgi.py gunicorn.conf.py

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

# Benchmarks (bench/README.md): install nginx and wrk if missing, run every script even after
# one fails, then say which missed a target or failed. BENCH_SCRIPTS="tally poll" runs some;
# BENCH_ARGS="--seconds 3" passes options to each; FAIRSITE_BENCH_PORT, FAIRSITE_BENCH_NGINX_PORT
# fix the ports. Setup comes before install: a fresh Debian may lack python3-venv as well.
bench:
	@VENV=$(VENV) PYTHON=$(PYTHON) bench/setup
	@$(MAKE) --no-print-directory install
	@BENCH_PYTHON=$(BIN)/python bench/run

clean:
	rm -rf $(VENV) *.egg-info

# Extract UI text for translators (Chinese is the source language).
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -o messages.pot .
