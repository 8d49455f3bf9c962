# The two entry points of README.md. Both build .venv on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# make run: development mode, the embedded SQLite database in ./instance
RUN_ENV := ALEMTRACK_ENV=development

.PHONY: run test bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The web server and, beside it, the clock process (stopped with the server).
run: $(STAMP)
	$(RUN_ENV) $(BIN)/flask --app server init-db
	$(RUN_ENV) $(BIN)/flask --app server vapid-keys
	$(RUN_ENV) $(BIN)/flask --app server seed-demo
	@echo "Alemtrack on http://127.0.0.1:5000 (API page: http://127.0.0.1:5000/api/v1/docs)"
	$(RUN_ENV) $(BIN)/flask --app server clock & clock=$$!; \
	trap 'kill $$clock 2>/dev/null' EXIT INT TERM; \
	$(RUN_ENV) $(BIN)/flask --app server run --host 127.0.0.1 --port 5000

# Browser tests drive Debian's Chromium (Playwright cannot download browsers here).
test: $(STAMP)
	@command -v chromium >/dev/null 2>&1 || { apt-get install -y -q chromium >/dev/null 2>&1 || \
	  { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; }
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n auto

bench: $(STAMP)
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/api.py --both
	$(BIN)/python bench/clock.py
	$(BIN)/python bench/pwa.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .benchmarks
