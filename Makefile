# fairsite: `make run` serves the demo fair, `make test` runs the whole suite.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
export FLASK_APP := fairsite.app

.PHONY: run test lint install demo assets bench clean messages translations

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

# Static files under content-hashed names with brotli and gzip copies, in build/static/ (not
# in git; fairsite/assets.py). Quick when nothing changed.
assets: install
	$(BIN)/python -m fairsite.assets

run: demo assets translations
	@echo "fairsite: http://127.0.0.1:8000  (Ctrl-C stops it)"
	@# The SMS queue's consumer runs beside gunicorn (texts go out through it; with the
	@# default console backend nothing leaves the machine). Ctrl-C or the end of gunicorn
	@# stops it too.
	@$(BIN)/flask sms worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn -c gunicorn.conf.py --no-control-socket wsgi:app

lint: install
	$(BIN)/ruff check fairsite tests bench wsgi.py gunicorn.conf.py

# pytest-xdist: test files spread over TEST_WORKERS processes (most of the suite waits on
# servers and browsers, so more processes than cores still helps); TEST_WORKERS=0 runs in one.
TEST_WORKERS ?= 4
test: lint assets translations
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# Benchmarks (bench/README.md): install nginx and wrk if missing, run every script even after
# one fails, then say which missed a target or failed. BENCH_SCRIPTS="tally poll" runs some;
# BENCH_ARGS="--seconds 3" passes options to each; FAIRSITE_BENCH_PORT, FAIRSITE_BENCH_NGINX_PORT
# fix the ports. Setup comes before install: a fresh Debian may lack python3-venv as well.
bench:
	@VENV=$(VENV) PYTHON=$(PYTHON) bench/setup
	@$(MAKE) --no-print-directory install assets
	@BENCH_PYTHON=$(BIN)/python bench/run

clean:
	rm -rf $(VENV) *.egg-info build/static

# Extract UI text for translators (Simplified Chinese is the source language) and merge it
# into the zh-Hant and English catalogues (fairsite/translations/*/LC_MESSAGES/messages.po, in
# git); new zh-Hant entries are converted by OpenCC (s2tw and reviewed words, fairsite/i18n.py): README, "Languages".
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o messages.pot .
	$(BIN)/pybabel update -i messages.pot -d fairsite/translations --no-fuzzy-matching --ignore-obsolete
	$(BIN)/python -m fairsite.i18n convert
	$(BIN)/python -m fairsite.i18n

# The catalogues compiled to .mo files (not in git); create_app() also compiles any missing.
translations: install
	$(BIN)/python -m fairsite.i18n
