# Every target creates its own virtual environment; nothing else needs installing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DATASET ?= ../shared/datasets/hymenoptera

.PHONY: demo test lint bench sample-data clean

$(BIN)/augcli: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/augcli
	rm -rf out
	$(BIN)/augcli expand configs/default.yaml sample_data -o out/ --workers 2

test: $(BIN)/augcli
	$(BIN)/python -m pytest -q

lint: $(BIN)/augcli
	$(BIN)/ruff check augcli tests benchmarks scripts
	$(BIN)/ruff format --check augcli tests benchmarks scripts

sample-data: $(BIN)/augcli
	$(BIN)/python scripts/make_sample_data.py --force

clean:
	rm -rf $(VENV) out .pytest_cache
