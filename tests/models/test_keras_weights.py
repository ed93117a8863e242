"""The harmonized models published as Keras weights only, read without TensorFlow into timm's
architectures, give the outputs of the libraries they were built with (vit-keras, kecam):
logits and two inner layers on photographs, to a relative 1e-4. The reference runs in a
subprocess (tests/models/keras_reference.py, TensorFlow with tf-keras) that writes the weights the
way the published files were written."""

import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from neuralign.models.loading import keras_data_config, load_model
from neuralign.models.sources import harmonized as harmonized_models
from neuralign.models.sources import keras_weights
from neuralign.models.sources.keras_weights import KerasWeightsError

REFERENCE = Path(__file__).with_name("keras_reference.py")
PHOTOGRAPHS = ("astronaut", "coffee", "chelsea")
# timm modules compared with the Keras layers of keras_reference.INNER, in the same order
INNER = {
    "vit_b16": ["blocks.5", "norm"],
    "levit_128": ["stages.0", "stages.1"],
    "convnext_tiny": ["stages.1", "stages.3"],
    "maxvit_tiny": ["stages.1", "stages.2"],
}
TOLERANCE = 1e-4


def photographs() -> np.ndarray:
    """scikit-image's photographs at 224 x 224, preprocessed as Harmonization's
    ``preprocess_input`` does (/ 255, ImageNet mean and std), channels last."""
    images = [
        np.asarray(Image.fromarray(getattr(data, name)()).resize((224, 224), Image.BILINEAR))
        for name in PHOTOGRAPHS
    ]
    config = keras_data_config((3, 224, 224))
    x = np.stack(images).astype(np.float32) / 255
    return ((x - np.array(config["mean"])) / np.array(config["std"])).astype(np.float32)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The four reference weights files and outputs (one subprocess, ~1.5 min on two cores)."""
    folder = tmp_path_factory.mktemp("keras_reference")
    np.save(folder / "images.npy", photographs())
    proc = subprocess.run(
        [sys.executable, str(REFERENCE), str(folder / "images.npy"), str(folder)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return folder


def timm_outputs(module: torch.nn.Module, names: list[str]) -> list[np.ndarray]:
    """Logits and the outputs of the named modules (forward hooks, as extraction reads them)."""
    found = {}
    hooks = [
        module.get_submodule(name).register_forward_hook(
            lambda _m, _i, out, name=name: found.__setitem__(name, out)
        )
        for name in names
    ]
    with torch.no_grad():
        logits = module(torch.from_numpy(photographs()).permute(0, 3, 1, 2))
    for hook in hooks:
        hook.remove()
    return [logits.numpy(), *(found[name].numpy() for name in names)]


def in_torch_layout(keras: np.ndarray, like: np.ndarray) -> np.ndarray:
    """A Keras output (channels last) in the layout of the timm output ``like``."""
    if keras.ndim == 4 and like.ndim == 4:
        return keras.transpose(0, 3, 1, 2)
    if keras.ndim == 4 and like.ndim == 3:  # LeViT: Keras keeps the grid, timm tokens
        return keras.reshape(len(keras), -1, keras.shape[-1])
    return keras


def assert_close(actual: np.ndarray, expected: np.ndarray, what: str) -> None:
    expected = in_torch_layout(expected, actual)
    assert actual.shape == expected.shape, (what, actual.shape, expected.shape)
    error = np.abs(actual - expected).max() / np.abs(expected).max()
    assert error < TOLERANCE, f"{what}: relative error {error:.1e}"


@pytest.mark.parametrize("name", list(harmonized_models.MODELS))
def test_weights_only_models_match_their_keras_library(reference, name):
    layout = harmonized_models.MODELS[name].layout
    module = keras_weights.load(reference / f"{name}.h5", layout)
    expected = np.load(reference / f"{name}.npz")
    actual = timm_outputs(module, INNER[name])
    assert_close(actual[0], expected["logits"], f"{name} logits")
    assert actual[0].shape == (len(PHOTOGRAPHS), 1000)
    for index, layer in enumerate(INNER[name]):
        assert_close(actual[index + 1], expected[f"inner{index}"], f"{name} {layer}")


def test_harmonized_source_reads_the_file_at_its_resource_path(reference, tmp_path, monkeypatch):
    """``harmonized:<name>`` reads resources/<host>/<path> of the published URL, with the
    harmonized models' preprocessing."""
    monkeypatch.chdir(tmp_path)
    path = Path(harmonized_models.weights_path("levit_128"))
    assert path.as_posix() == (
        "resources/storage.googleapis.com/serrelab/prj_harmonization/models/"
        "levit_small_harmonized.h5"
    )
    with pytest.raises(Exception, match="levit_small_harmonized.h5 does not exist"):
        load_model("harmonized:levit_128")
    path.parent.mkdir(parents=True)
    shutil.copy(reference / "levit_128.h5", path)
    loaded = load_model("harmonized:levit_128")
    assert loaded.data_config == keras_data_config((3, 224, 224))
    logits = timm_outputs(loaded.module, [])[0]
    assert_close(logits, np.load(reference / "levit_128.npz")["logits"], "levit_128 logits")


def edited_copy(reference: Path, tmp_path: Path, edit) -> Path:
    """A copy of the reference LeViT weights file changed by ``edit(h5py.File)``."""
    path = tmp_path / "edited.h5"
    shutil.copy(reference / "levit_128.h5", path)
    with h5py.File(path, "r+") as handle:
        edit(handle)
    return path


def drop_head_bias(handle: h5py.File) -> None:
    group = handle["head"]
    group.attrs["weight_names"] = [b"head/kernel:0"]
    del group["head/bias:0"]


def add_stray_layer(handle: h5py.File) -> None:
    names = [
        name.decode() if isinstance(name, bytes) else name for name in handle.attrs["layer_names"]
    ]
    handle.attrs["layer_names"] = np.array([*names, "stray_dense"], dtype="S")
    group = handle.create_group("stray_dense")
    group.attrs["weight_names"] = [b"stray_dense/kernel:0"]
    group.create_dataset("stray_dense/kernel:0", data=np.zeros((2, 2), np.float32))


def reshape_qkv(handle: h5py.File) -> None:
    group = handle["stack1_block1_qkv"]
    kernel = group["stack1_block1_qkv/kernel:0"][()]
    del group["stack1_block1_qkv/kernel:0"]
    group.create_dataset("stack1_block1_qkv/kernel:0", data=kernel[:, :128])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (drop_head_bias, "tensor 'head/bias' is missing (levit_128 head.linear.bias"),
        (add_stray_layer, "tensor 'stray_dense/kernel' (2, 2) is not part of kecam"),
        (
            reshape_qkv,
            "'stack1_block1_qkv/kernel' (128, 128) gives shape (128, 128); "
            "levit_128 stages.0.blocks.0.attn.qkv.linear.weight needs (256, 128)",
        ),
    ],
    ids=["missing", "left-over", "wrong-shape"],
)
def test_a_tensor_that_does_not_fit_is_named(reference, tmp_path, edit, message):
    path = edited_copy(reference, tmp_path, edit)
    with pytest.raises(KerasWeightsError) as error:
        keras_weights.load(path, "kecam.LeViT128")
    assert message in str(error.value)


def test_files_that_are_not_tf_keras2_weights_are_refused(tmp_path):
    with pytest.raises(KerasWeightsError, match="does not exist"):
        keras_weights.read_weights(tmp_path / "none.h5")
    (tmp_path / "text.h5").write_text("not HDF5")
    with pytest.raises(KerasWeightsError, match="not a readable HDF5 file"):
        keras_weights.read_weights(tmp_path / "text.h5")
    with h5py.File(tmp_path / "keras3.weights.h5", "w") as handle:  # Keras 3 layout
        handle.create_group("layers/dense/vars").create_dataset("0", data=np.zeros(2))
    with pytest.raises(KerasWeightsError, match="not a tf.keras 2 HDF5 weights file"):
        keras_weights.read_weights(tmp_path / "keras3.weights.h5")
