# 邻里互助 — the two commands of CONTRACT.md, and their helpers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := wsgi

.PHONY: run test lint translations venv clean browser bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d app/translations

run: $(VENV)/.installed translations
	mkdir -p instance
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: $(VENV)/.installed-dev translations lint browser
	$(BIN)/python -m pytest
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== the same suite on PostgreSQL: $$TEST_DATABASE_URL"; \
		TEST_DB=postgres $(BIN)/python -m pytest; \
	else \
		echo "== TEST_DATABASE_URL is not set: PostgreSQL run skipped"; \
	fi

# What the browser tests need: Debian's Chromium with CJK fonts (apt, as root or
# through passwordless sudo) and axe-core (npm, pinned in tests/e2e/package-lock.json).
# Where Chromium cannot be installed the browser tests are skipped, loudly.
E2E := tests/e2e
browser: $(E2E)/node_modules/axe-core/axe.min.js
	@if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/opentype/noto ]; then \
		echo "== installing chromium and fonts-noto-cjk for the browser tests"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium fonts-noto-cjk >/dev/null \
		|| { $$SUDO apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium fonts-noto-cjk >/dev/null; } \
		|| echo "!!! could not install Chromium: the browser tests will be SKIPPED"; \
	fi

$(E2E)/node_modules/axe-core/axe.min.js: $(E2E)/package.json $(E2E)/package-lock.json
	cd $(E2E) && npm ci --no-audit --no-fund --silent || echo "!!! could not install axe-core: the browser tests will be SKIPPED"

# The benchmark (bench/, README "Benchmark"): not part of `make test`. Builds or reuses
# the bench city in BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/bench)
# with BENCH_HOUSEHOLDS households (flask seed-scale; BENCH_DATA=demo for the demo data),
# serves it with gunicorn and loads it with locust; results in bench-results/.
BENCH_DATA ?= scale
BENCH_HOUSEHOLDS ?= 50000
$(VENV)/.installed-bench: $(VENV)/.installed requirements-bench.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	touch $@

bench: $(VENV)/.installed-bench translations
	$(BIN)/python -m bench --data $(BENCH_DATA) --households $(BENCH_HOUSEHOLDS) $(BENCH_ARGS)

# Refresh the message catalogues after changing user-facing strings.
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 --no-location --omit-header --sort-output -o app/translations/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching -i app/translations/messages.pot -d app/translations

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
