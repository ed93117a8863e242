"""The content-addressed activation cache: verified hits, evicted bad entries, and a cache that
cannot be written costing nothing but a warning."""

import json
import logging
import os

import numpy as np
import pytest
import xarray as xr

from neuralign.io.artifacts import read_provenance, write_netcdf
from neuralign.io.cache import cached, content_key, entry_path, sidecar_path
from neuralign.io.resources import sha256_file
from tests.conftest import read_only

PROVENANCE = {"rule": "activations", "config_sha256": "abc", "simulated": 1, "model": "m"}


def features(seed: int = 0) -> xr.Dataset:
    values = np.random.default_rng(seed).normal(size=(50, 400)).astype(np.float32)
    return xr.Dataset({"layer": (("stimulus", "layer_feature"), values)})


@pytest.fixture
def compute():
    """A compute function writing a real netCDF artifact (with provenance); counts its calls."""

    def run(path):
        run.calls += 1
        write_netcdf(features(), path, PROVENANCE)

    run.calls = 0
    return run


def test_cache_recomputes_only_when_content_changes(tmp_path, compute):
    images = []
    for k in range(3):
        images.append(tmp_path / f"{k}.png")
        images[-1].write_bytes(bytes([k]) * 100)
    key = content_key({"model": "a"}, images)
    assert not cached(key, tmp_path / "cache", tmp_path / "one.nc", compute)
    assert cached(key, tmp_path / "cache", tmp_path / "two.nc", compute)
    assert compute.calls == 1
    xr.testing.assert_equal(xr.open_dataset(tmp_path / "two.nc"), features())
    assert content_key({"model": "b"}, images) != key
    assert content_key({"model": "a"}, images[::-1]) != key
    assert not cached(
        content_key({"model": "b"}, images), tmp_path / "cache", tmp_path / "three.nc", compute
    )
    assert compute.calls == 2


def test_an_entry_is_recorded_with_its_size_and_sha256(tmp_path, compute):
    cached("k" * 64, tmp_path / "cache", tmp_path / "out.nc", compute)
    entry = entry_path(tmp_path / "cache", "k" * 64)
    record = json.loads(sidecar_path(entry).read_text())
    assert record["size"] == entry.stat().st_size
    assert record["sha256"] == sha256_file(entry) == sha256_file(tmp_path / "out.nc")
    assert not list(entry.parent.glob(".*.tmp"))


def test_a_hit_keeps_the_computing_runs_provenance_and_says_it_came_from_the_cache(
    tmp_path, compute
):
    key = "a" * 64
    cached(key, tmp_path / "cache", tmp_path / "first.nc", compute)
    assert cached(key, tmp_path / "cache", tmp_path / "hit.nc", compute)
    hit = xr.open_dataset(tmp_path / "hit.nc")
    assert hit.attrs["cache_hit_key"] == key and hit.attrs["cache_hit_date"].startswith("20")
    assert read_provenance(tmp_path / "hit.nc") == read_provenance(tmp_path / "first.nc")
    assert "cache_hit_key" not in xr.open_dataset(tmp_path / "first.nc").attrs


@pytest.mark.parametrize("damage", ["truncate", "flip", "no record", "bad record"])
def test_a_bad_entry_is_evicted_and_recomputed_with_a_warning(tmp_path, compute, caplog, damage):
    key = "b" * 64
    cached(key, tmp_path / "cache", tmp_path / "first.nc", compute)
    entry = entry_path(tmp_path / "cache", key)
    data = entry.read_bytes()
    if damage == "truncate":
        entry.write_bytes(data[: len(data) // 2])
    elif damage == "flip":  # same size, other values: still opens, a lazy open is no check
        entry.write_bytes(data[:-100] + bytes(100))
        xr.open_dataset(entry).close()
    elif damage == "no record":
        sidecar_path(entry).unlink()
    else:
        sidecar_path(entry).write_text("{")
    with caplog.at_level(logging.WARNING, logger="neuralign"):
        assert not cached(key, tmp_path / "cache", tmp_path / "again.nc", compute)
    assert compute.calls == 2
    assert f"cache entry {entry} is not valid" in caplog.text and "evicting" in caplog.text
    xr.testing.assert_equal(xr.open_dataset(tmp_path / "again.nc"), features())
    assert entry.read_bytes() == (tmp_path / "again.nc").read_bytes()  # stored again, whole
    assert cached(key, tmp_path / "cache", tmp_path / "hit.nc", compute)


def test_a_cache_that_cannot_be_written_only_warns(tmp_path, compute, caplog):
    cache = tmp_path / "cache"
    cache.mkdir()
    with read_only(cache), caplog.at_level(logging.WARNING, logger="neuralign"):
        assert not cached("c" * 64, cache, tmp_path / "out.nc", compute)
        assert not os.listdir(cache)
    assert "could not store" in caplog.text and str(tmp_path / "out.nc") in caplog.text
    xr.testing.assert_equal(xr.open_dataset(tmp_path / "out.nc"), features())
    assert not list(tmp_path.glob(".*.tmp"))


def test_without_a_cache_folder_it_always_computes(tmp_path, compute):
    assert not cached("d" * 64, "", tmp_path / "a.nc", compute)
    assert not cached("d" * 64, None, tmp_path / "a.nc", compute)
    assert compute.calls == 2
