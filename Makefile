# Every target creates its own virtual environment; nothing else needs installing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DATASET ?= ../shared/datasets/hymenoptera

.PHONY: demo test lint bench bench-scale sample-data docs clean

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

docs: $(BIN)/augcli
	$(BIN)/python scripts/readme_transforms.py
	$(BIN)/python scripts/readme_albumentations.py
	$(BIN)/augcli preview configs/default.yaml sample_data -o docs/preview.png --per-class 1 --colors 256
	$(BIN)/augcli preview configs/detection.yaml sample_targets/coco -o docs/preview_detection.png --per-class 2 --copies 3 --colors 256
	$(BIN)/augcli preview configs/segmentation.yaml sample_targets/masks -o docs/preview_segmentation.png --per-class 1 --copies 3 --colors 256

# The peers (albumentations, Augmentor) go into this venv only through the [bench] extra, never into
# augcli's dependencies. albumentations 2.0.8 queries PyPI on import unless NO_ALBUMENTATIONS_UPDATE=1.
$(VENV)/.bench-installed: $(BIN)/augcli
	NO_ALBUMENTATIONS_UPDATE=1 $(BIN)/pip install --quiet -e '.[bench]'
	touch $@

bench: $(VENV)/.bench-installed
	NO_ALBUMENTATIONS_UPDATE=1 $(BIN)/python -m benchmarks.run --dataset $(DATASET) --readme README.md

# The same table plus the scale section: 100,000 generated small images, 2 copies each (a few more minutes).
bench-scale: $(VENV)/.bench-installed
	NO_ALBUMENTATIONS_UPDATE=1 $(BIN)/python -m benchmarks.run --dataset $(DATASET) --readme README.md --scale 100000

clean:
	rm -rf $(VENV) out .pytest_cache
