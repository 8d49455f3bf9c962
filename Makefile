# The two entry points of README.md. Both build .venv on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# make run: development mode, the embedded SQLite database in ./instance
RUN_ENV := ALEMTRACK_ENV=development

.PHONY: run test bench clean vendor

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

# JavaScript libraries of the app, pinned, kept in pwa/vendor/ (no bundler): fetch them again.
LEAN_QR := 2.7.4
LEAN_QR_SHA256 := e751d84a17c979a79d231828b9a3da0595614340d0d1138dec557ddc63deb10e
vendor:
	tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent lean-qr@$(LEAN_QR) >/dev/null && \
	  echo "$(LEAN_QR_SHA256)  lean-qr-$(LEAN_QR).tgz" | sha256sum -c - && tar xzf lean-qr-$(LEAN_QR).tgz && \
	  cp package/index.mjs $(CURDIR)/pwa/vendor/lean-qr-$(LEAN_QR)/lean-qr.js && \
	  cp package/extras/svg.mjs $(CURDIR)/pwa/vendor/lean-qr-$(LEAN_QR)/lean-qr-svg.js && \
	  cp package/LICENSE $(CURDIR)/pwa/vendor/lean-qr-$(LEAN_QR)/LICENSE && rm -rf $$tmp

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .benchmarks
