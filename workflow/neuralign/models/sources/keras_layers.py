"""PyTorch modules of Keras layers, built from a layer's config and its weights (``LAYERS``):
the builders that ``neuralign.models.sources.keras_h5`` assembles into a model graph.

Images are NCHW inside; the layers whose result depends on the memory order (Flatten, Reshape,
Dense on an image, axes) follow Keras's channels-last order. ``same`` padding is TensorFlow's:
an odd total puts the extra row and column at the bottom and right.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

KERAS_EPSILON = 1e-7  # keras.backend.epsilon(), used by the Normalization layer


class KerasH5Error(ValueError):
    """A file that is not a whole Keras model, or one with a layer we cannot rebuild."""


Weights = dict[str, np.ndarray]


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
