# haforu — the commands. `make sample` renders a sample; `make test` installs what the tests
# need and runs every test (CI runs exactly `make test`).
SHELL := /bin/bash
CARGO ?= cargo
WASM_TARGET := wasm32-unknown-unknown
WASM_OUT := target/haforu.wasm
VENV := target/venv
PY := $(VENV)/bin/python

.PHONY: sample test wasm venv lint test-core test-cli test-python test-web bench references soak bench-dask

# The README's first command: the bundled default font renders a sample to hello.png.
sample: wasm
	$(CARGO) run --release -q -p haforu-cli -- render -t "Hamburgefonstiv" -o hello.png
	@echo "wrote hello.png"

wasm: $(WASM_OUT)
$(WASM_OUT): FORCE
	rustup target add $(WASM_TARGET) >/dev/null 2>&1 || true
	$(CARGO) build --profile wasm --target $(WASM_TARGET) -p haforu-wasm
	cp target/$(WASM_TARGET)/wasm/haforu_wasm.wasm $(WASM_OUT)
FORCE:

venv: $(VENV)/.ok
$(VENV)/.ok: tests/tools/requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r tests/tools/requirements.txt
	touch $@

lint:
	rustup component add rustfmt clippy >/dev/null 2>&1 || true
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test-core: wasm
	$(CARGO) test --release -p haforu

# Everything: lint, the core (unit, golden raster/metrics/shaping, errors, native↔wasm parity),
# the CLI/server host, the Python package (from its wheel) and the browser module (Node + Chromium).
test: lint test-core test-cli test-python test-web
	@echo "make test: all suites passed"

# Our native core vs haforu.wasm in wasmtime vs the uharfbuzz+freetype-py peer, interleaved.
bench: wasm venv
	$(CARGO) bench --bench engine

# Regenerate the golden references from FreeType + HarfBuzz (not run by `make test`).
references: venv
	$(PY) tests/tools/make_references.py
	$(PY) tests/tools/make_shaping_goldens.py

# --- Python host (hosts/python): wheel built from target/haforu.wasm, tested from the install ---
PYVENV := target/venv-py
PYV := $(PYVENV)/bin/python
PY_WHEELHOUSE := target/wheelhouse
# The wasmtime-py range the Python host is tested with (= pyproject.toml's dependency).
PY_WASMTIME := wasmtime>=50,<51

$(PYVENV)/.ok:
	python3 -m venv $(PYVENV)
	$(PYV) -m pip install -q --upgrade pip
	$(PYV) -m pip install -q "$(PY_WASMTIME)" numpy pytest mypy build hatchling uharfbuzz freetype-py fonttools Pillow opencv-python-headless
	$(PYV) -m pip install -q "dask[distributed,dataframe]" tqdm   # haforu.dask, progress bars and their tests
	$(PYV) -m pip download -q -d $(PY_WHEELHOUSE) "$(PY_WASMTIME)" numpy
	touch $@

define PY_WHEEL_INSTALL
	rm -rf hosts/python/dist
	$(PYV) -m build --wheel --no-isolation --outdir hosts/python/dist hosts/python
	$(PYV) -m pip install -q --force-reinstall --no-deps hosts/python/dist/haforu-*-py3-none-any.whl
endef

test-python: wasm $(PYVENV)/.ok
	$(PY_WHEEL_INSTALL)
	cd hosts/python && ../../$(PYV) -m mypy --strict src/haforu
	HAFORU_WHEEL=$$(ls hosts/python/dist/haforu-*-py3-none-any.whl) HAFORU_WHEELHOUSE=$(PY_WHEELHOUSE) \
		$(PYV) -m pytest -q hosts/python/tests

bench-python: wasm $(PYVENV)/.ok
	$(PY_WHEEL_INSTALL)
	$(PYV) bench/python_bench.py $(BENCH_ARGS)

# haforu.dask on a 2-worker LocalCluster vs process_jobs in one process (bench/dask_bench.py).
bench-dask: wasm $(PYVENV)/.ok
	$(PY_WHEEL_INSTALL)
	$(PYV) bench/dask_bench.py $(BENCH_ARGS)

# --- Web module (wasm/web → www/pkg) and the www/ preview page ---------------------------------
# `make web` builds the ES module into www/pkg/ (an npm package: `npm pack www/pkg`) and prints
# its size against the budget;
# `make test-web` installs Chromium (apt, only if missing), the pinned wasm-bindgen CLI (cargo, only
# if another version is installed) and playwright-core (npm ci), then runs the Node parity test
# and the Chromium test; `make serve-www` serves the page on http://127.0.0.1:$(WWW_PORT)/.
WASM_BINDGEN_VERSION := 0.2.130
WASM_BINDGEN ?= wasm-bindgen
WEB_OUT := target/web
WWW_PORT ?= 8000
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: web serve-www

web:
	rustup target add $(WASM_TARGET) >/dev/null 2>&1 || true
	@if [ "$$($(WASM_BINDGEN) --version 2>/dev/null)" != "wasm-bindgen $(WASM_BINDGEN_VERSION)" ]; then \
		echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION)"; \
		$(CARGO) install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION); fi
	$(CARGO) build --profile wasm-web --target $(WASM_TARGET) -p haforu-web
	rm -rf $(WEB_OUT)
	$(WASM_BINDGEN) --target web --out-dir $(WEB_OUT) target/$(WASM_TARGET)/wasm-web/haforu_web.wasm
	rm -rf www/pkg && mkdir -p www/pkg
	cp -r $(WEB_OUT)/haforu_web.js $(WEB_OUT)/haforu_web.d.ts $(WEB_OUT)/haforu_web_bg.wasm $(WEB_OUT)/snippets www/pkg/
	cp wasm/web/npm/package.json wasm/web/npm/README.md www/pkg/
	@sh www/tests/size.sh www/pkg/haforu_web_bg.wasm

test-web: web
	@[ -x /usr/bin/chromium ] || [ -n "$$CHROMIUM" ] || \
		($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null)
	cd www/tests && npm ci --no-audit --no-fund --loglevel=error
	node --expose-gc www/tests/node_parity.mjs
	node --expose-gc www/tests/node_matching.mjs
	node www/tests/npm_package.mjs
	node www/tests/browser.mjs

serve-www: web
	@echo "haforu preview: http://127.0.0.1:$(WWW_PORT)/  (Ctrl-C stops)"
	python3 -m http.server --bind 127.0.0.1 --directory www $(WWW_PORT)

test-cli: wasm ; $(CARGO) test --release -p haforu-cli -p haforu-guest
bench-cli: wasm ; bash bench/cli_bench.sh
# Hostile-load soak of the server, Python and Node, and one million renders (bench/soak.sh).
soak: wasm web $(PYVENV)/.ok
	$(PY_WHEEL_INSTALL)
	bash bench/soak.sh $(SOAK_ARGS)

# --- Fuzzing (fuzz/, cargo-fuzz with sanitizer none: stable Rust) -----------------------------
# `make fuzz` runs every target for FUZZ_SECONDS (default 60) each, starting from seed corpora
# made from the repository's fonts, broken fonts and golden jobs; FUZZ_TARGETS picks targets.
# A crash lands in fuzz/artifacts/<target>/: fix it, then copy the input to
# tests/fuzz-regressions/<target>/, where `cargo test` replays it.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= job font render sweep compare resize
FUZZ_CORPUS := target/fuzz-corpus
.PHONY: fuzz fuzz-seeds
fuzz-seeds:
	@mkdir -p $(addprefix $(FUZZ_CORPUS)/,job font render sweep compare resize)
	@cp tests/fonts/*.ttf tests/fonts/*.otf tests/fonts/*.ttc tests/fonts/broken/* tests/fonts/limits/* $(FUZZ_CORPUS)/font/
	@i=0; while IFS= read -r line; do i=$$((i+1)); printf '%s' "$$line" > $(FUZZ_CORPUS)/job/case$$i.json; done < tests/golden/raster/cases.jsonl
	@printf '\x00\x10\x00\x20\x10\x01\x04\x00Hamburgefonstiv' > $(FUZZ_CORPUS)/render/seed-latin
	@printf '\x03\x40\x00\x40\x10\x00\x01\x08نص حكيم' > $(FUZZ_CORPUS)/render/seed-arabic
	@printf '\x00\x69\x1a\x19\x1e\x20\x40\x06\x01\x10\x38\x01\x00\x10\x04\x00\x00\x06\x41\x67' > $(FUZZ_CORPUS)/sweep/seed0
	@printf '\x00\x69\x1a\x19\x5e\x21\x40\x06\x01\x10\x38\x01\x01\x07\x07\x00\xff\x41\x67' > $(FUZZ_CORPUS)/sweep/seed1
	@printf '\x02\x69\x1a\x04\x9e\x18\x40\x06\x01\x10\x38\x01\x50\x35\x20\x31\x20\x31\x20\x32\x35\x35\x0a\x00\x48\x69' > $(FUZZ_CORPUS)/sweep/seed2
	@printf '\x02\x01\x03\x02\x00\x40\x80\xc0\xff\x00\x01\x01\x04\x00\xff' > $(FUZZ_CORPUS)/compare/seed0
	@printf '\x01\x01\x1f\x1f\x00\xff\x01\x00\x00\x80' > $(FUZZ_CORPUS)/compare/seed1
	@printf '\x09\x80\x01\x07\x05\x00\x10\x20\x30\xff' > $(FUZZ_CORPUS)/resize/seed0
	@printf '\x09\x40\x01\x03\x03\x80' > $(FUZZ_CORPUS)/resize/seed1
	@for t in job font render sweep compare resize; do cp tests/fuzz-regressions/$$t/* $(FUZZ_CORPUS)/$$t/ 2>/dev/null; rm -f $(FUZZ_CORPUS)/$$t/README.md; done; true
fuzz: fuzz-seeds
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	@for t in $(FUZZ_TARGETS); do \
		echo "fuzz $$t: $(FUZZ_SECONDS) s"; \
		(cd fuzz && $(CARGO) fuzz run -s none $$t ../$(FUZZ_CORPUS)/$$t -- \
			-max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=10 -max_len=262144) || exit 1; \
	done
