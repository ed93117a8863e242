"""Keras HDF5 models rebuilt in PyTorch give Keras's own outputs (Keras 3 on its torch backend
is the reference), for files in the Keras 3 and in the tf.keras 2 layout."""

import json
import os

import h5py
import numpy as np
import pytest
import torch

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

from neuralign.models.loading import load_model  # noqa: E402
from neuralign.models.sources.keras_h5 import load_keras_h5  # noqa: E402
from neuralign.models.sources.keras_layers import KerasH5Error  # noqa: E402
from neuralign.models.table import ModelError  # noqa: E402


def randomise_batch_norms(model, rng) -> None:
    """Batch-norm statistics away from (0, 1), so that a wrong axis or epsilon shows."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            shift = rng.normal(0, 0.1, (3, *mean.shape)).astype("float32")
            spread = (1 + np.abs(rng.normal(0, 0.3, var.shape))).astype("float32")
            layer.set_weights([gamma + shift[0], beta + shift[1], mean + shift[2], spread])


def keras_outputs(model, x: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
    probe = keras.Model(model.input, [model.get_layer(name).output for name in names])
    outputs = probe(x, training=False)
    return {name: keras.ops.convert_to_numpy(out) for name, out in zip(names, outputs, strict=True)}


def torch_outputs(module, x: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
    """Outputs of the named layers (hooks, as feature extraction reads them), channels last."""
    found = {}
    hooks = [
        module.get_submodule(name).register_forward_hook(
            lambda _m, _i, out, name=name: found.__setitem__(name, out)
        )
        for name in names
    ]
    with torch.no_grad():
        module(torch.from_numpy(x).permute(0, 3, 1, 2))
    for hook in hooks:
        hook.remove()
    return {
        name: (out.permute(0, 2, 3, 1) if out.dim() == 4 else out).numpy()
        for name, out in found.items()
    }


def assert_same_outputs(model, path, x, names, tolerance=1e-5):
    expected = keras_outputs(model, x, names)
    actual = torch_outputs(load_keras_h5(path), x, names)
    for name in names:
        scale = np.abs(expected[name]).max()
        error = np.abs(actual[name] - expected[name]).max() / scale
        assert error < tolerance, f"{name}: relative error {error:.1e}"


APPLICATIONS = {
    # Architectures of the published harmonized models (ResNet50V2, EfficientNetB0, VGG16)
    # and others covering every supported layer type; a few inner layers each.
    "ResNet50V2": ["conv2_block3_out", "conv4_block6_out", "post_relu", "predictions"],
    "EfficientNetB0": ["stem_activation", "block2b_add", "block6d_se_excite", "predictions"],
    "MobileNetV2": ["block_3_depthwise_relu", "out_relu", "predictions"],
    "DenseNet121": ["pool2_pool", "conv4_block24_concat", "predictions"],
}


@pytest.mark.parametrize("name", APPLICATIONS)
def test_keras_applications_match_keras(tmp_path, name):
    keras.utils.set_random_seed(0)
    model = getattr(keras.applications, name)(weights=None, classifier_activation=None)
    randomise_batch_norms(model, np.random.default_rng(0))
    path = tmp_path / f"{name}.h5"
    model.save(path)
    x = np.random.default_rng(1).uniform(0, 1, (2, 224, 224, 3)).astype("float32")
    assert_same_outputs(model, path, x, APPLICATIONS[name])


def test_vgg16_flatten_and_dense_follow_keras_channel_order(tmp_path):
    keras.utils.set_random_seed(0)
    base = keras.applications.VGG16(weights=None, include_top=False, input_shape=(64, 64, 3))
    head = keras.layers.Dense(10, name="fc")(keras.layers.Flatten(name="flatten")(base.output))
    model = keras.Model(base.input, head)
    path = tmp_path / "vgg.h5"
    model.save(path)
    x = np.random.default_rng(1).uniform(0, 1, (2, 64, 64, 3)).astype("float32")
    assert_same_outputs(model, path, x, ["block3_conv3", "block5_pool", "flatten", "fc"])


def layer_zoo():
    """One model with every supported layer type, odd sizes for TensorFlow's padding and a
    nested Sequential and Functional model."""
    layers = keras.layers
    inputs = keras.Input((15, 13, 3), name="image")
    x = layers.Rescaling([0.5, 1.0, 2.0], offset=-0.25, name="rescale")(inputs)
    normalise = layers.Normalization(name="normalise")
    normalise.adapt(np.random.default_rng(2).normal(1, 2, (16, 15, 13, 3)).astype("float32"))
    x = normalise(x)
    x = layers.Conv2D(6, 3, strides=2, padding="same", activation="relu", name="conv_same")(x)
    y = layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="depthwise")(x)
    y = layers.BatchNormalization(name="bn")(y)
    y = layers.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.2, name="relu_layer")(y)
    z = layers.Conv2D(12, 1, activation="swish", name="pointwise")(x)
    merged = layers.Concatenate(name="concat")([y, z])
    averaged = layers.Average(name="average")([y, z])
    x = layers.Subtract(name="subtract")([layers.Maximum(name="maximum")([y, z]), averaged])
    x = layers.Concatenate(name="concat_all")([merged, x])
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="max_same")(x)
    x = layers.ZeroPadding2D(((1, 0), (0, 2)), name="pad")(x)
    x = layers.AveragePooling2D(2, strides=1, padding="same", name="avg_same")(x)
    inner_in = keras.Input(x.shape[1:])
    inner = keras.Model(
        inner_in,
        layers.Conv2D(5, 2, dilation_rate=2, activation="tanh", name="dilated")(inner_in),
        name="inner_functional",
    )
    x = inner(x)
    x = keras.Sequential(
        [layers.Conv2D(4, 1, use_bias=False, name="seq_conv"), layers.Activation("gelu")],
        name="inner_sequential",
    )(x)
    pooled = layers.GlobalMaxPooling2D(keepdims=True, name="global_max")(x)
    x = layers.Multiply(name="gate")([x, layers.Activation("sigmoid", name="sig")(pooled)])
    x = layers.Reshape((-1, 4), name="tokens")(x)
    x = layers.Dense(7, activation="elu", name="token_dense")(x)
    x = layers.Flatten(name="flat")(x)
    x = layers.Dropout(0.5, name="dropout")(x)
    x = layers.Dense(5, name="logits")(x)
    return keras.Model(inputs, layers.Softmax(name="probs")(x))


ZOO_LAYERS = ["normalise", "conv_same", "relu_layer", "concat_all", "avg_same", "gate", "probs"]


def test_every_supported_layer_matches_keras(tmp_path):
    keras.utils.set_random_seed(0)
    model = layer_zoo()
    randomise_batch_norms(model, np.random.default_rng(0))
    path = tmp_path / "zoo.h5"
    model.save(path)
    x = np.random.default_rng(1).normal(0, 1, (3, 15, 13, 3)).astype("float32")
    assert_same_outputs(model, path, x, ZOO_LAYERS)


def to_tf_keras2(source, target) -> None:
    """Rewrite a Keras 3 .h5 file in tf.keras 2's layout: list-form nodes, nested
    ``input_layers``, ``:0`` variable names, a nested Functional model's calls numbered from 1,
    and the layer names split over two attributes (as Keras does for long lists)."""
    with h5py.File(source, "r") as src, h5py.File(target, "w") as dst:
        config = json.loads(src.attrs["model_config"])
        nested = {
            layer["name"]
            for layer in config["config"]["layers"]
            if layer["class_name"] == "Functional"
        }

        def key(history):
            name, node, tensor = history
            return [name, node + (name in nested), tensor, {}]

        def tensors(value):
            if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
                return [key(value["config"]["keras_history"])]
            if isinstance(value, list):
                return [item for entry in value for item in tensors(entry)]
            return []

        for layer in config["config"]["layers"]:
            layer["inbound_nodes"] = [tensors(node["args"]) for node in layer["inbound_nodes"]]
        for end in ("input_layers", "output_layers"):
            config["config"][end] = [key(config["config"][end])[:3]]
        dst.attrs["model_config"] = json.dumps(config).encode()
        dst.attrs["keras_version"] = b"2.12.0"
        weights = dst.create_group("model_weights")
        names = src["model_weights"].attrs["layer_names"]
        half = len(names) // 2
        weights.attrs["layer_names0"], weights.attrs["layer_names1"] = names[:half], names[half:]
        for name, group in src["model_weights"].items():
            names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
            out = weights.create_group(name)
            out.attrs["weight_names"] = [f"{n}:0".encode() for n in names]
            for n in names:
                out[f"{n}:0"] = group[n][()]


def test_tf_keras2_files_are_read(tmp_path):
    keras.utils.set_random_seed(0)
    model = layer_zoo()
    model.save(tmp_path / "keras3.h5")
    to_tf_keras2(tmp_path / "keras3.h5", tmp_path / "keras2.h5")
    x = np.random.default_rng(1).normal(0, 1, (2, 15, 13, 3)).astype("float32")
    assert_same_outputs(model, tmp_path / "keras2.h5", x, ZOO_LAYERS)


def test_keras_source_loads_with_its_preprocessing(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3), alpha=0.35)
    path = tmp_path / "mobilenet.h5"
    model.save(path)
    loaded = load_model(f"keras:{path}")
    assert loaded.data_config["input_size"] == (3, 96, 96)
    assert loaded.data_config["mean"] == pytest.approx((0.485, 0.456, 0.406))
    assert loaded.data_config["interpolation"] == "bilinear"
    assert not loaded.module.training
    assert "block_16_project_BN" in dict(loaded.module.named_modules())


def test_weights_only_and_unsupported_files_are_named(tmp_path):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4, 4, 3))
    model = keras.Model(inputs, keras.layers.Conv2DTranspose(2, 3, name="upconv")(inputs))
    model.save(tmp_path / "transpose.h5")
    with pytest.raises(KerasH5Error, match=r"transpose\.h5: layer 'upconv' is a Conv2DTranspose"):
        load_keras_h5(tmp_path / "transpose.h5")
    model.save_weights(tmp_path / "only.weights.h5")
    with pytest.raises(KerasH5Error, match=r"only\.weights\.h5 holds weights only"):
        load_keras_h5(tmp_path / "only.weights.h5")
    (tmp_path / "text.h5").write_text("not hdf5")
    with pytest.raises(KerasH5Error, match=r"text\.h5 is not a readable HDF5 file"):
        load_keras_h5(tmp_path / "text.h5")
    with pytest.raises(ModelError, match=r"keras:.*missing\.h5.*does not exist"):
        load_model(f"keras:{tmp_path / 'missing.h5'}")
