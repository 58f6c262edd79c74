# haforu — the commands. `make sample` renders a sample; `make test` installs what the tests
# need and runs every test (CI runs exactly `make test`).
SHELL := /bin/bash
CARGO ?= cargo
WASM_TARGET := wasm32-unknown-unknown
WASM_OUT := target/haforu.wasm
VENV := target/venv
PY := $(VENV)/bin/python

.PHONY: sample test wasm venv lint test-core test-cli test-python test-web bench references

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
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test-core: wasm
	$(CARGO) test --release -p haforu

test: lint test-core

# --- Python host (hosts/python): wheel built from target/haforu.wasm, tested from the install ---
PYVENV := target/venv-py
PYV := $(PYVENV)/bin/python
PY_WHEELHOUSE := target/wheelhouse

$(PYVENV)/.ok:
	python3 -m venv $(PYVENV)
	$(PYV) -m pip install -q --upgrade pip
	$(PYV) -m pip install -q wasmtime numpy pytest mypy build hatchling uharfbuzz freetype-py fonttools Pillow
	$(PYV) -m pip download -q -d $(PY_WHEELHOUSE) wasmtime numpy
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
