"""bench/paper_cost.py: its smoke run on small models, and the shape of its cost model."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "paper_cost.py"


def load_script():
    spec = importlib.util.spec_from_file_location("paper_cost", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["paper_cost"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_quick_run_reports_every_stage(tmp_path):
    out = tmp_path / "cost.json"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Predicted cost of the paper config" in run.stdout
    result = json.loads(out.read_text())
    assert result["quick"] is True
    stages = {
        "extraction",
        "majajhong_fits",
        "map_fits",
        "attribution",
        "imagenet",
        "god_extraction",
        "god_fits",
    }
    for key in ("cpu_single_thread_s", "gpu_s"):
        assert set(result["cost"][key]) == stages
        assert all(v >= 0 for v in result["cost"][key].values())
    # a positive time for the extraction and the fits of every model walked
    walked = [w["id"] for w in result["work"]]
    assert [m["id"] for m in result["cost"]["per_model"]] == walked
    for model in result["cost"]["per_model"]:
        assert model["cpu"]["extraction"] > 0 and model["cpu"]["majajhong_fits"] > 0
        assert model["gpu"]["extraction"] > 0
    # the measured spread: cost per image is measured, and FLOPs come from the real models
    measured = result["measured"]["extraction"]
    assert len(measured) >= 2 and all(r["s_per_image"] > 0 for r in measured)
    assert measured[0]["gflops"] < measured[-1]["gflops"]
    # the totals are the sums of the stages
    cost = result["cost"]
    assert np.isclose(cost["gpu_total_s"], sum(cost["gpu_s"].values()))
    assert np.isclose(cost["cpu_total_single_thread_s"], sum(cost["cpu_single_thread_s"].values()))
    assert result["assumptions"] and result["measured"]["uptime_before"]


def test_cost_model_is_monotone_in_flops():
    paper_cost = load_script()
    rng = np.random.default_rng(0)
    gflops = rng.uniform(0.1, 40, size=8)
    mparams = rng.uniform(1, 300, size=8)
    # noisy, and even anti-correlated data: the fit may not make cost fall with FLOPs
    seconds = np.abs(0.05 + 0.01 * gflops + rng.normal(scale=0.05, size=8))
    for fitted_on in (seconds, seconds[::-1]):
        for params in (None, mparams):
            coef = paper_cost.fit_cost_model(gflops, fitted_on, params)
            grid = np.linspace(0, 100, 50)
            predicted = paper_cost.predict_cost(coef, grid, np.full(50, 25.0))
            assert np.all(np.diff(predicted) >= 0)
    # and on exact linear data it recovers the relation
    coef = paper_cost.fit_cost_model(gflops, 0.02 + 0.003 * gflops)
    assert np.allclose(coef, [0.02, 0.003, 0.0], atol=1e-9)


def test_fit_time_interpolation_grows_with_width():
    paper_cost = load_script()
    times = {500: 1.0, 2000: 4.0, 8000: 10.0}
    widths = [100, 500, 1000, 2000, 5000, 8000, 20000]
    values = [paper_cost.interpolate(times, w) for w in widths]
    assert np.all(np.diff(values) >= 0)
    assert paper_cost.interpolate(times, 1250) == 2.5
    assert paper_cost.interpolate(times, 14000) == 16.0  # last slope, 1e-3 s per feature
