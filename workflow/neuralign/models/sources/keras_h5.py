"""Keras HDF5 models (such as the published harmonized models) as PyTorch modules, without
TensorFlow.

A Keras ``model.save("model.h5")`` file holds the model's graph (the ``model_config`` JSON)
and its weights (``model_weights/<layer>/…/<variable>``). ``load_keras_h5`` rebuilds the graph
from PyTorch modules, one per Keras layer and registered under the layer's name, so that
layers are addressed by their Keras names (``block5_conv3``, ``conv4_block6_out``).

Files written by tf.keras 2 and by Keras 3 are read (their node formats differ). Images are
NCHW inside; the layers whose result depends on the memory order (Flatten, Reshape, Dense on
an image, axes) follow Keras's channels-last order. ``same`` padding is TensorFlow's: an odd
total puts the extra row and column at the bottom and right. A layer type not listed in
``LAYERS`` is an error naming the layer.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from functools import partial
from pathlib import Path

import h5py
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

KERAS_EPSILON = 1e-7  # keras.backend.epsilon(), used by the Normalization layer
NO_OP_LAYERS = {
    "Dropout",
    "SpatialDropout2D",
    "FixedDropout",  # qubvel's efficientnet package
    "GaussianNoise",
    "GaussianDropout",
    "ActivityRegularization",
}
MODEL_CLASSES = {"Functional", "Model", "Sequential"}


class KerasH5Error(ValueError):
    """A file that is not a whole Keras model, or one with a layer we cannot rebuild."""


Weights = dict[str, np.ndarray]


def load_keras_h5(path: str | Path) -> KerasGraph:
    """The model saved in ``path`` (``model.save`` in HDF5 format) as an eval-mode module."""
    path = Path(path)
    if not path.is_file():
        raise KerasH5Error(f"Keras model file {path} does not exist")
    try:
        with h5py.File(path, "r") as handle:
            if "model_config" not in handle.attrs:
                raise KerasH5Error(
                    f"{path} holds weights only (no model_config): save the whole model "
                    "with model.save(), or rebuild its architecture in Keras"
                )
            config = json.loads(_text(handle.attrs["model_config"]))
            root = handle["model_weights"] if "model_weights" in handle else handle
            names = attribute_list(root, "layer_names")
            groups = {name: _group_weights(root[name]) for name in names}
    except OSError as err:
        raise KerasH5Error(f"{path} is not a readable HDF5 file ({err})") from err
    try:
        model = build_model(config, groups)
    except KerasH5Error as err:
        raise KerasH5Error(f"{path}: {err}") from err
    model.input_size = input_size(config)
    return model.eval()


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def attribute_list(obj: h5py.HLObject, key: str) -> list[str]:
    """A list attribute, which Keras splits into ``<key>0``, ``<key>1``, … when it is long."""
    if key in obj.attrs:
        return [_text(value) for value in obj.attrs[key]]
    chunks, index = [], 0
    while f"{key}{index}" in obj.attrs:
        chunks += [_text(value) for value in obj.attrs[f"{key}{index}"]]
        index += 1
    return chunks


def _group_weights(group: h5py.Group) -> dict[str, Weights]:
    """Variables of one top-level layer's group by owning layer: ``{layer: {var: array}}``.

    Names are ``<layer>/<var>`` (Keras 3), ``<layer>/<var>:0`` (tf.keras 2), with the inner
    layer's name last but one for a nested model (``vgg16/block1_conv1/kernel:0``).
    """
    owners: dict[str, Weights] = {}
    for name in attribute_list(group, "weight_names"):
        parts = name.split("/")
        owner = parts[-2] if len(parts) > 1 else group.name.rsplit("/", 1)[-1]
        owners.setdefault(owner, {})[parts[-1].split(":")[0]] = np.asarray(group[name])
    return owners


class KerasGraph(nn.Module):
    """A Keras Functional or Sequential model: its layers, called in the saved node order."""

    def __init__(self, layers, nodes, inputs, outputs):
        super().__init__()
        for name, layer in layers.items():
            if hasattr(self, name):
                raise KerasH5Error(f"layer name {name!r} clashes with a torch.nn.Module attribute")
            self.add_module(name, layer)
        self.nodes = nodes  # (module name, output key, [input keys or constants])
        self.input_keys = inputs
        self.output_keys = outputs

    def forward(self, *inputs):
        if len(inputs) != len(self.input_keys):
            raise ValueError(f"the model takes {len(self.input_keys)} input(s), got {len(inputs)}")
        values = dict(zip(self.input_keys, inputs, strict=True))
        for name, key, args in self.nodes:
            arguments = (values[arg] if isinstance(arg, tuple) else arg for arg in args)
            values[key] = self._modules[name](*arguments)
        outputs = [values[key] for key in self.output_keys]
        return outputs[0] if len(outputs) == 1 else tuple(outputs)


def build_model(config: dict, groups: dict[str, dict[str, Weights]]) -> KerasGraph:
    """Rebuild a model config; ``groups`` holds the weights of its layers as read from the file
    (for a nested model, the weights of that model's layers)."""
    class_name, spec = config["class_name"], config["config"]
    if class_name == "Sequential":
        return _sequential(spec, groups)
    if class_name not in MODEL_CLASSES:
        raise KerasH5Error(f"model class {class_name!r} is not a Functional or Sequential model")
    calls = {
        _layer_name(layer): [_node_inputs(node) for node in layer["inbound_nodes"]]
        for layer in spec["layers"]
        if layer["class_name"] != "InputLayer"
    }
    outputs = _keys(spec["output_layers"])
    referenced = {arg for inputs in calls.values() for args in inputs for arg in args}
    referenced.update(outputs)
    layers, nodes = {}, []
    for layer in spec["layers"]:
        name = _layer_name(layer)
        if name not in calls:
            continue
        layers[_module_name(name)] = _build_layer(layer, groups)
        # tf.keras 2 numbers a nested model's calls from 1 (its node 0 is internal).
        first = int((name, len(calls[name]), 0) in referenced)
        for index, args in enumerate(calls[name], start=first):
            nodes.append((_module_name(name), (name, index, 0), args))
    return KerasGraph(layers, _in_dependency_order(nodes), _keys(spec["input_layers"]), outputs)


def _sequential(spec: dict, groups: dict[str, dict[str, Weights]]) -> KerasGraph:
    layers = [layer for layer in spec["layers"] if layer["class_name"] != "InputLayer"]
    modules, nodes, previous = {}, [], ("input", 0, 0)
    for layer in layers:
        name = _layer_name(layer)
        modules[_module_name(name)] = _build_layer(layer, groups)
        nodes.append((_module_name(name), (name, 0, 0), [previous]))
        previous = (name, 0, 0)
    return KerasGraph(modules, nodes, [("input", 0, 0)], [previous])


def _layer_name(layer: dict) -> str:
    return layer.get("name") or layer["config"]["name"]


def _module_name(name: str) -> str:
    """A Keras layer name usable as a submodule name ('.' separates submodules)."""
    return name.replace(".", "_")


def _keys(layers: list) -> list[tuple[str, int, int]]:
    """``[[name, node, tensor], …]`` (tf.keras 2) or one ``[name, node, tensor]`` (Keras 3)."""
    if layers and isinstance(layers[0], str):
        layers = [layers]
    return [(name, int(node), int(tensor)) for name, node, tensor in layers]


def _node_inputs(node) -> list:
    """Inputs of one call of a layer, in order: tensor keys ``(layer, node, tensor)``, and the
    numbers of an operator on a constant (Keras 3 saves ``x + 3`` as an Add of x and 3.0).

    tf.keras 2 writes ``[[name, node, tensor, kwargs], …]``; Keras 3 writes ``{"args": […],
    "kwargs": {…}}`` with ``__keras_tensor__`` entries carrying ``keras_history``. Keyword
    arguments that are not tensors (``mask=None``) do not change inference and are dropped.
    """
    if isinstance(node, list):
        return [(name, int(index), int(tensor)) for name, index, tensor, *_ in node]
    found = []

    def walk(value, positional):
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            name, index, tensor = value["config"]["keras_history"]
            found.append((name, int(index), int(tensor)))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item, False)
        elif isinstance(value, list):
            for item in value:
                walk(item, positional)
        elif positional and isinstance(value, int | float) and not isinstance(value, bool):
            found.append(float(value))
        elif positional and value is not None:
            raise KerasH5Error(f"a layer call has an argument {value!r} that is not supported")

    walk(node.get("args", []), True)
    walk(node.get("kwargs", {}), False)
    return found


def _in_dependency_order(nodes: list) -> list:
    """The nodes ordered so that each runs after the nodes that produce its inputs."""
    produced = {key for _, key, _ in nodes}
    done: set = set()
    ordered, pending = [], list(nodes)
    while pending:
        ready = [node for node in pending if all(a in done or a not in produced for a in node[2])]
        if not ready:
            raise KerasH5Error(f"the layer graph has a cycle at {pending[0][0]!r}")
        for node in ready:
            ordered.append(node)
            done.add(node[1])
        pending = [node for node in pending if node[1] not in done]
    return ordered


def _build_layer(layer: dict, groups: dict[str, dict[str, Weights]]) -> nn.Module:
    class_name, config, name = layer["class_name"], layer["config"], _layer_name(layer)
    if config.get("data_format", "channels_last") != "channels_last":
        raise KerasH5Error(f"layer {name!r}: only channels_last models are supported")
    if class_name in MODEL_CLASSES:
        leaves = groups.get(name) or {k: w for group in groups.values() for k, w in group.items()}
        return build_model(layer, {owner: {owner: w} for owner, w in leaves.items()})
    if class_name in NO_OP_LAYERS:
        return nn.Identity()
    if class_name not in LAYERS:
        raise KerasH5Error(
            f"layer {name!r} is a {class_name}, which is not supported; supported: "
            f"{', '.join(sorted([*LAYERS, *NO_OP_LAYERS]))}"
        )
    weights = _layer_weights(name, groups)
    try:
        return LAYERS[class_name](config, weights)
    except KeyError as err:
        raise KerasH5Error(f"layer {name!r} ({class_name}) lacks weight {err}") from err


def _layer_weights(name: str, groups: dict[str, dict[str, Weights]]) -> Weights:
    owners = groups.get(name, {})
    if name in owners:
        return owners[name]
    return next(iter(owners.values())) if len(owners) == 1 else {}


def _tensor(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))


def _pair(value) -> tuple[int, int]:
    return (int(value), int(value)) if isinstance(value, int | float) else tuple(map(int, value))


def _same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TensorFlow's ``same`` padding (before, after) of one axis."""
    total = max((math.ceil(size / stride) - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def _pad_same(x, kernel, stride, dilation=(1, 1), value=0.0):
    top, bottom = _same_padding(x.shape[2], kernel[0], stride[0], dilation[0])
    left, right = _same_padding(x.shape[3], kernel[1], stride[1], dilation[1])
    return F.pad(x, (left, right, top, bottom), value=value)


def _activation(spec) -> Callable[[torch.Tensor], torch.Tensor]:
    """A Keras activation, given by name (or, in Keras 3, a serialized function)."""
    if isinstance(spec, dict):
        spec = spec["config"] if isinstance(spec.get("config"), str) else spec.get("class_name")
    spec = spec or "linear"
    if spec == "softmax":
        return lambda x: torch.softmax(x, dim=1 if x.dim() == 4 else -1)
    if spec not in ACTIVATIONS:
        raise KerasH5Error(
            f"activation {spec!r} is not supported; supported: {sorted(ACTIVATIONS)}"
        )
    return ACTIVATIONS[spec]


ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": F.relu,
    "relu6": F.relu6,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "swish": F.silu,
    "silu": F.silu,
    "gelu": F.gelu,
    "elu": F.elu,
    "hard_silu": F.hardswish,  # Keras 3: x * relu6(x + 3) / 6
    "hard_swish": F.hardswish,
}


class Conv2D(nn.Module):
    """Conv2D (and DepthwiseConv2D) with Keras's padding and a fused activation."""

    def __init__(self, config: dict, weights: Weights, depthwise: bool = False):
        super().__init__()
        if depthwise:
            # (kh, kw, in, multiplier); Keras 3 names it "kernel"
            kernel = weights.get("depthwise_kernel", weights.get("kernel"))
            if kernel is None:
                raise KeyError("depthwise_kernel")
            height, width, channels, multiplier = kernel.shape
            weight = kernel.transpose(2, 3, 0, 1).reshape(channels * multiplier, 1, height, width)
            self.groups = channels
        else:
            weight = weights["kernel"].transpose(3, 2, 0, 1)  # (kh, kw, in, out) → (out, in, …)
            self.groups = int(config.get("groups", 1))
        self.weight = nn.Parameter(_tensor(weight))
        self.bias = nn.Parameter(_tensor(weights["bias"])) if config.get("use_bias", True) else None
        self.kernel = tuple(self.weight.shape[2:])
        self.stride = _pair(config.get("strides", 1))
        self.dilation = _pair(config.get("dilation_rate", 1))
        self.same = config.get("padding", "valid") == "same"
        self.act = _activation(config.get("activation"))

    def forward(self, x):
        if self.same:
            x = _pad_same(x, self.kernel, self.stride, self.dilation)
        x = F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return self.act(x)


class Dense(nn.Module):
    """Dense on the last Keras axis (the channels of an image)."""

    def __init__(self, config: dict, weights: Weights):
        super().__init__()
        self.weight = nn.Parameter(_tensor(weights["kernel"].T))
        self.bias = nn.Parameter(_tensor(weights["bias"])) if config.get("use_bias", True) else None
        self.act = _activation(config.get("activation"))

    def forward(self, x):
        if x.dim() == 4:
            y = F.linear(x.permute(0, 2, 3, 1), self.weight, self.bias).permute(0, 3, 1, 2)
        else:
            y = F.linear(x, self.weight, self.bias)
        return self.act(y)


class BatchNormalization(nn.Module):
    """Inference-mode batch norm over the channel axis."""

    def __init__(self, config: dict, weights: Weights):
        super().__init__()
        axis = config.get("axis", -1)
        axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
        if axis not in (-1, 3):
            raise KerasH5Error(f"BatchNormalization over axis {axis} is not supported")
        self.register_buffer("mean", _tensor(weights["moving_mean"]))
        self.register_buffer("var", _tensor(weights["moving_variance"]))
        self.gamma = nn.Parameter(_tensor(weights["gamma"])) if config.get("scale", True) else None
        self.beta = nn.Parameter(_tensor(weights["beta"])) if config.get("center", True) else None
        self.eps = float(config.get("epsilon", 1e-3))

    def forward(self, x):
        if x.dim() == 3:  # (batch, tokens, channels)
            return F.batch_norm(
                x.transpose(1, 2), self.mean, self.var, self.gamma, self.beta, False, 0, self.eps
            ).transpose(1, 2)
        return F.batch_norm(x, self.mean, self.var, self.gamma, self.beta, False, 0.0, self.eps)


class Pool2D(nn.Module):
    """MaxPooling2D / AveragePooling2D (TensorFlow's ``same``: padding is not averaged)."""

    def __init__(self, config: dict, weights: Weights, mode: str):
        super().__init__()
        self.kernel = _pair(config.get("pool_size", 2))
        self.stride = _pair(config.get("strides") or self.kernel)
        self.same = config.get("padding", "valid") == "same"
        self.mode = mode

    def forward(self, x):
        if self.mode == "max":
            if self.same:
                x = _pad_same(x, self.kernel, self.stride, value=-math.inf)
            return F.max_pool2d(x, self.kernel, self.stride)
        if not self.same:
            return F.avg_pool2d(x, self.kernel, self.stride)
        ones = torch.ones_like(x[:, :1])
        total = F.avg_pool2d(_pad_same(x, self.kernel, self.stride), self.kernel, self.stride)
        count = F.avg_pool2d(_pad_same(ones, self.kernel, self.stride), self.kernel, self.stride)
        return total / count


class GlobalPool2D(nn.Module):
    def __init__(self, config: dict, weights: Weights, mode: str):
        super().__init__()
        self.keepdims = bool(config.get("keepdims", False))
        self.mode = mode

    def forward(self, x):
        if self.mode == "max":
            return x.amax(dim=(2, 3), keepdim=self.keepdims)
        return x.mean(dim=(2, 3), keepdim=self.keepdims)


class ZeroPadding2D(nn.Module):
    def __init__(self, config: dict, weights: Weights):
        super().__init__()
        padding = config.get("padding", 1)
        if isinstance(padding, int):
            padding = ((padding, padding), (padding, padding))
        elif all(isinstance(p, int) for p in padding):
            padding = ((padding[0], padding[0]), (padding[1], padding[1]))
        (self.top, self.bottom), (self.left, self.right) = padding

    def forward(self, x):
        return F.pad(x, (self.left, self.right, self.top, self.bottom))


def _to_keras_order(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, 2, 3, 1) if x.dim() == 4 else x


def _from_keras_order(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, 3, 1, 2) if x.dim() == 4 else x


class Flatten(nn.Module):
    def __init__(self, config: dict, weights: Weights):
        super().__init__()

    def forward(self, x):
        return _to_keras_order(x).flatten(1)


class Reshape(nn.Module):
    def __init__(self, config: dict, weights: Weights):
        super().__init__()
        self.shape = tuple(int(n) for n in config["target_shape"])

    def forward(self, x):
        return _from_keras_order(_to_keras_order(x).reshape(x.shape[0], *self.shape))


def _torch_axis(axis: int, rank: int) -> int:
    """The NCHW dimension of a channels-last Keras axis."""
    axis = axis % rank
    if rank != 4 or axis == 0:
        return axis
    return {1: 2, 2: 3, 3: 1}[axis]


class Merge(nn.Module):
    """Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate."""

    def __init__(self, config: dict, weights: Weights, op: str):
        super().__init__()
        self.op = op
        self.axis = int(config.get("axis", -1))

    def forward(self, *xs):
        if self.op == "concatenate":
            return torch.cat(xs, dim=_torch_axis(self.axis, xs[0].dim()))
        if self.op == "subtract":
            return xs[0] - xs[1]
        result = xs[0]
        for x in xs[1:]:
            if self.op in ("add", "average"):
                result = result + x
            elif self.op == "multiply":
                result = result * x
            else:
                result = (
                    torch.maximum(result, x) if self.op == "maximum" else torch.minimum(result, x)
                )
        return result / len(xs) if self.op == "average" else result


def _channel_vector(value) -> torch.Tensor:
    """A scalar or per-channel (last Keras axis) value as a flat tensor."""
    return _tensor(np.asarray(value)).reshape(-1)


def _broadcast(vector: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A flat scalar or per-channel tensor, shaped to broadcast against ``x``."""
    if vector.numel() == 1:
        return vector.reshape(())
    return vector.reshape(1, -1, 1, 1) if x.dim() == 4 else vector


class Rescaling(nn.Module):
    def __init__(self, config: dict, weights: Weights):
        super().__init__()
        self.register_buffer("scale", _channel_vector(config.get("scale", 1.0)))
        self.register_buffer("offset", _channel_vector(config.get("offset", 0.0)))

    def forward(self, x):
        return x * _broadcast(self.scale, x) + _broadcast(self.offset, x)


class Normalization(nn.Module):
    """``(x - mean) / max(sqrt(variance), epsilon)`` with the adapted mean and variance."""

    def __init__(self, config: dict, weights: Weights):
        super().__init__()
        if config.get("invert"):
            raise KerasH5Error("an inverting Normalization layer is not supported")
        mean = weights.get("mean", config.get("mean"))
        variance = weights.get("variance", config.get("variance"))
        if mean is None or variance is None:
            raise KerasH5Error("a Normalization layer without mean and variance")
        self.register_buffer("mean", _channel_vector(mean))
        self.register_buffer("std", _channel_vector(variance).sqrt().clamp(min=KERAS_EPSILON))

    def forward(self, x):
        return (x - _broadcast(self.mean, x)) / _broadcast(self.std, x)


class Activation(nn.Module):
    def __init__(self, config: dict, weights: Weights):
        super().__init__()
        self.act = _activation(config.get("activation"))

    def forward(self, x):
        return self.act(x)


class ReLU(nn.Module):
    """Keras's ReLU layer: ``max_value``, ``negative_slope`` below ``threshold``."""

    def __init__(self, config: dict, weights: Weights):
        super().__init__()
        self.max_value = config.get("max_value")
        self.slope = float(config.get("negative_slope", 0.0))
        self.threshold = float(config.get("threshold", 0.0))

    def forward(self, x):
        y = torch.where(x >= self.threshold, x, self.slope * (x - self.threshold))
        return y.clamp(max=float(self.max_value)) if self.max_value is not None else y


class Softmax(nn.Module):
    def __init__(self, config: dict, weights: Weights):
        super().__init__()
        self.axis = int(config.get("axis", -1))

    def forward(self, x):
        return torch.softmax(x, dim=_torch_axis(self.axis, x.dim()))


LAYERS: dict[str, Callable[[dict, Weights], nn.Module]] = {
    "Conv2D": Conv2D,
    "DepthwiseConv2D": partial(Conv2D, depthwise=True),
    "Dense": Dense,
    "BatchNormalization": BatchNormalization,
    "MaxPooling2D": partial(Pool2D, mode="max"),
    "AveragePooling2D": partial(Pool2D, mode="avg"),
    "GlobalAveragePooling2D": partial(GlobalPool2D, mode="avg"),
    "GlobalMaxPooling2D": partial(GlobalPool2D, mode="max"),
    "ZeroPadding2D": ZeroPadding2D,
    "Flatten": Flatten,
    "Reshape": Reshape,
    "Rescaling": Rescaling,
    "Normalization": Normalization,
    "Activation": Activation,
    "ReLU": ReLU,
    "Softmax": Softmax,
    **{
        op.capitalize(): partial(Merge, op=op)
        for op in ("add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate")
    },
}


def input_size(config: dict) -> tuple[int, int, int] | None:
    """(3, H, W) of the model's input layer, when the saved config fixes it."""
    layers = config["config"]["layers"]
    for layer in layers:
        if layer["class_name"] == "InputLayer":
            shape = layer["config"].get("batch_shape") or layer["config"].get("batch_input_shape")
            if shape and len(shape) == 4 and shape[1] and shape[2]:
                return (int(shape[3]), int(shape[1]), int(shape[2]))
    if layers and layers[0]["class_name"] in MODEL_CLASSES:
        return input_size(layers[0])
    return None
