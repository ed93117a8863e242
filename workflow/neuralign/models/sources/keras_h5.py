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
from pathlib import Path

import h5py
import numpy as np
from torch import nn

from neuralign.models.sources.keras_layers import LAYERS, KerasH5Error, Weights

NO_OP_LAYERS = {
    "Dropout",
    "SpatialDropout2D",
    "FixedDropout",  # qubvel's efficientnet package
    "GaussianNoise",
    "GaussianDropout",
    "ActivityRegularization",
}
MODEL_CLASSES = {"Functional", "Model", "Sequential"}


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
