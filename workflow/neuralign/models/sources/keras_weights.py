"""Weights-only Keras HDF5 files loaded into timm architectures, tensor by tensor, without
TensorFlow.

A tf.keras 2 ``model.save_weights("x.h5")`` file holds no architecture: the model must be
rebuilt in code. For the architectures registered in ``LAYOUTS`` the matching timm model is
built instead and every one of its tensors is taken from the file by name, with the layout
change it needs:

- convolution kernels (kh, kw, in, out) -> torch (out, in, kh, kw); depthwise kernels
  (kh, kw, channels, 1) -> (channels, 1, kh, kw); Dense kernels (in, out) -> Linear (out, in);
- BatchNormalization gamma / beta / moving_mean / moving_variance -> weight / bias /
  running_mean / running_var; LayerNormalization gamma / beta -> weight / bias;
- attention: vit-keras's separate query, key and value Dense layers are stacked into timm's
  packed ``qkv`` Linear; relative position tables are transposed or reindexed (per layout).

Nothing is guessed: a tensor of the timm model that the file lacks, a tensor of the file that
the layout does not use, or a tensor of the wrong shape stops the load with an error naming
it. The file is read with h5py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
import timm
import torch

from neuralign.models.sources.keras_h5 import attribute_list


class KerasWeightsError(ValueError):
    """A weights file that is missing, unreadable, or does not fit its layout."""


Weights = dict[str, np.ndarray]


@dataclass(frozen=True)
class Source:
    """Where one timm tensor comes from: Keras weight names and how to convert them."""

    keras: tuple[str, ...]
    convert: Callable[..., np.ndarray]


Mapping = dict[str, Source]


@dataclass(frozen=True)
class Layout:
    """A Keras architecture (as built by its library) and the timm architecture it maps to."""

    keras_model: str  # how the Keras model is built, for messages and docs
    arch: str  # timm architecture
    mapping: Callable[[torch.nn.Module], Mapping]
    arch_kwargs: dict = field(default_factory=dict)

    def architecture(self) -> torch.nn.Module:
        """The timm architecture with timm's initial weights."""
        return timm.create_model(self.arch, pretrained=False, **self.arch_kwargs)


def read_weights(path: str | Path) -> Weights:
    """Every weight of a tf.keras 2 HDF5 weights file, keyed by its Keras name without the
    ``:0`` suffix (``<layer>/<variable>``, nested layers' names in between)."""
    path = Path(path)
    if not path.is_file():
        raise KerasWeightsError(f"Keras weights file {path} does not exist")
    try:
        with h5py.File(path, "r") as handle:
            root = handle["model_weights"] if "model_weights" in handle else handle
            layers = attribute_list(root, "layer_names")
            if not layers:
                raise KerasWeightsError(
                    f"{path} is not a tf.keras 2 HDF5 weights file (no 'layer_names' attribute; "
                    "Keras 3 '.weights.h5' files are not supported)"
                )
            weights = {}
            for layer in layers:
                group = root[layer]
                for name in attribute_list(group, "weight_names"):
                    key = name.removesuffix(":0")
                    key = key if key.startswith(f"{layer}/") else f"{layer}/{key}"
                    weights[key] = np.asarray(group[name])
    except OSError as err:
        raise KerasWeightsError(f"{path} is not a readable HDF5 file ({err})") from err
    return weights


def load_weights(module: torch.nn.Module, weights: Weights, layout: Layout, path) -> None:
    """Load ``weights`` into ``module`` (built by ``layout``), checking every tensor.

    Raises KerasWeightsError naming the first tensor that is missing from the file, left
    over in it, or of the wrong shape.
    """
    state = module.state_dict()
    mapping = layout.mapping(module)
    parameters = {name for name, _ in module.named_parameters()}
    required = [
        key for key in state if key in parameters or key.endswith(("running_mean", "running_var"))
    ]
    unmapped = [key for key in required if key not in mapping]
    if unmapped:
        raise KerasWeightsError(f"layout {layout.keras_model}: no source for {unmapped[0]}")
    loaded = {}
    for key, source in mapping.items():
        lacking = [name for name in source.keras if name not in weights]
        if lacking:
            raise KerasWeightsError(
                f"{path}: tensor {lacking[0]!r} is missing ({layout.arch} {key} is made from "
                f"{list(source.keras)}); is this a {layout.keras_model} weights file?"
            )
        arrays = [weights[name] for name in source.keras]
        found = ", ".join(
            f"{name!r} {array.shape}" for name, array in zip(source.keras, arrays, strict=True)
        )
        expected = tuple(state[key].shape)
        try:
            value = np.asarray(source.convert(*arrays), dtype=np.float32)
        except ValueError as err:
            raise KerasWeightsError(
                f"{path}: {found} cannot become {layout.arch} {key} {expected} ({err})"
            ) from err
        if value.shape != expected:
            raise KerasWeightsError(
                f"{path}: {found} gives shape {value.shape}; {layout.arch} {key} needs {expected}"
            )
        loaded[key] = torch.from_numpy(np.ascontiguousarray(value))
    used = {name for source in mapping.values() for name in source.keras}
    extra = [name for name in weights if name not in used]
    if extra:
        raise KerasWeightsError(
            f"{path}: tensor {extra[0]!r} {weights[extra[0]].shape} is not part of "
            f"{layout.keras_model} ({len(extra)} such tensor(s)); is this the right file?"
        )
    module.load_state_dict({**state, **loaded}, strict=True)


# Layout changes, Keras -> torch.
def same(array: np.ndarray) -> np.ndarray:
    return array


def conv_kernel(kernel: np.ndarray) -> np.ndarray:
    """Conv2D kernel (kh, kw, in, out) -> (out, in, kh, kw)."""
    return kernel.transpose(3, 2, 0, 1)


def depthwise_kernel(kernel: np.ndarray) -> np.ndarray:
    """DepthwiseConv2D kernel (kh, kw, channels, 1) -> (channels, 1, kh, kw)."""
    return kernel.transpose(2, 3, 0, 1)


def dense_kernel(kernel: np.ndarray) -> np.ndarray:
    """Dense kernel (in, out) -> Linear weight (out, in)."""
    return kernel.T


def heads_first(table: np.ndarray) -> np.ndarray:
    """Attention biases (positions, heads) -> (heads, positions)."""
    return table.T


def pointwise_to_linear(kernel: np.ndarray) -> np.ndarray:
    """1x1 Conv2D kernel (1, 1, in, out) -> Linear weight (out, in)."""
    if kernel.shape[:2] != (1, 1):
        raise ValueError(f"not a 1x1 kernel: {kernel.shape}")
    return kernel[0, 0].T


def stacked_kernels(*kernels: np.ndarray) -> np.ndarray:
    """Dense kernels (in, out_i) -> one Linear weight (sum out_i, in), in order."""
    return np.concatenate([kernel.T for kernel in kernels], axis=0)


def stacked_biases(*biases: np.ndarray) -> np.ndarray:
    return np.concatenate(biases, axis=0)


# Builders of mapping entries.
def _entries(torch_prefix: str, keras: str, pairs: dict[str, tuple[str, Callable]]) -> Mapping:
    return {
        f"{torch_prefix}.{name}": Source((f"{keras}/{variable}",), convert)
        for name, (variable, convert) in pairs.items()
    }


def conv(torch_prefix: str, keras: str, bias: bool = True, depthwise: bool = False) -> Mapping:
    kernel = ("depthwise_kernel", depthwise_kernel) if depthwise else ("kernel", conv_kernel)
    pairs = {"weight": kernel, **({"bias": ("bias", same)} if bias else {})}
    return _entries(torch_prefix, keras, pairs)


def dense(torch_prefix: str, keras: str, bias: bool = True, kernel=dense_kernel) -> Mapping:
    pairs = {"weight": ("kernel", kernel), **({"bias": ("bias", same)} if bias else {})}
    return _entries(torch_prefix, keras, pairs)


def batch_norm(torch_prefix: str, keras: str) -> Mapping:
    names = ("gamma", "beta", "moving_mean", "moving_variance")
    targets = ("weight", "bias", "running_mean", "running_var")
    return _entries(
        torch_prefix, keras, {t: (k, same) for t, k in zip(targets, names, strict=True)}
    )


def layer_norm(torch_prefix: str, keras: str) -> Mapping:
    return _entries(torch_prefix, keras, {"weight": ("gamma", same), "bias": ("beta", same)})


# vit-keras (faustomorales/vit-keras 0.1.x, vit_keras/vit.py build_model and layers.py, as of
# commit 1b35ca2e4852785999ec9a13117a67d2cbcd5b05): layers 'embedding', 'class_token',
# 'Transformer/posembed_input', 'Transformer/encoderblock_<i>' (query / key / value / out Dense
# layers of 'MultiHeadDotProductAttention_1', 'Dense_0' and 'Dense_1' of the MLP, 'LayerNorm_0'
# before attention and 'LayerNorm_2' before the MLP), 'Transformer/encoder_norm', 'head'. Query,
# key and value split their outputs into heads the way timm splits each third of qkv.
def vit_keras_mapping(module: torch.nn.Module) -> Mapping:
    mapping = {
        **conv("patch_embed.proj", "embedding"),
        "cls_token": Source(("class_token/cls",), same),
        "pos_embed": Source(("Transformer/posembed_input/pos_embedding",), same),
        **layer_norm("norm", "Transformer/encoder_norm"),
        **dense("head", "head"),
    }
    for index in range(len(module.blocks)):
        block, keras = f"blocks.{index}", f"Transformer/encoderblock_{index}"
        attention = f"{keras}/MultiHeadDotProductAttention_1"
        parts = [f"{attention}/{part}" for part in ("query", "key", "value")]
        mapping |= {
            f"{block}.attn.qkv.weight": Source(
                tuple(f"{p}/kernel" for p in parts), stacked_kernels
            ),
            f"{block}.attn.qkv.bias": Source(tuple(f"{p}/bias" for p in parts), stacked_biases),
            **dense(f"{block}.attn.proj", f"{attention}/out"),
            **layer_norm(f"{block}.norm1", f"{keras}/LayerNorm_0"),
            **layer_norm(f"{block}.norm2", f"{keras}/LayerNorm_2"),
            **dense(f"{block}.mlp.fc1", f"{keras}/Dense_0"),
            **dense(f"{block}.mlp.fc2", f"{keras}/Dense_1"),
        }
    return mapping


# keras-cv-attention-models ("kecam", leondgarse/keras_cv_attention_models, read at v1.4.3 =
# commit 687943d88f7a7beea4807e8f4db00f4b49da9ea8; for these three models the names and shapes
# of the weights are the same at v1.3.9 of January 2023; Harmonization's loaders for them
# date from February 2023):
# levit/levit.py: 'stem_<i>_conv' + 'stem_<i>_bn'; per block 'stack<s>_block<b>_' + qkv, qkv_bn,
# attn_pos, out, out_bn, mlp_1_dense, mlp_1_bn, mlp_2_dense, mlp_2_bn; between stages
# 'stack<s>_downsample_' + q, q_bn, kv, kv_bn, attn_pos, out, out_bn and its MLP; 'head_bn',
# 'head'. Attention biases are (key positions, heads) there, (heads, key positions) in timm,
# indexed alike (|dy| * width + |dx|). Dense layers have no bias except the head.
def _levit_linear_norm(torch_prefix: str, keras: str) -> Mapping:
    return {
        **dense(f"{torch_prefix}.linear", keras, bias=False),
        **batch_norm(f"{torch_prefix}.bn", f"{keras}_bn"),
    }


def _levit_mlp(torch_prefix: str, keras: str) -> Mapping:
    return {
        **dense(f"{torch_prefix}.ln1.linear", f"{keras}1_dense", bias=False),
        **batch_norm(f"{torch_prefix}.ln1.bn", f"{keras}1_bn"),
        **dense(f"{torch_prefix}.ln2.linear", f"{keras}2_dense", bias=False),
        **batch_norm(f"{torch_prefix}.ln2.bn", f"{keras}2_bn"),
    }


def levit_mapping(module: torch.nn.Module) -> Mapping:
    mapping = {**batch_norm("head.bn", "head_bn"), **dense("head.linear", "head")}
    for index in range(1, 5):
        mapping |= conv(f"stem.conv{index}.linear", f"stem_{index}_conv", bias=False)
        mapping |= batch_norm(f"stem.conv{index}.bn", f"stem_{index}_bn")
    for stage_index, stage in enumerate(module.stages):
        stack = f"stack{stage_index + 1}"
        for index in range(len(stage.blocks)):
            block, keras = f"stages.{stage_index}.blocks.{index}", f"{stack}_block{index + 1}_"
            mapping |= {
                f"{block}.attn.attention_biases": Source(
                    (f"{keras}attn_pos/positional_embedding",), heads_first
                ),
                **_levit_linear_norm(f"{block}.attn.qkv", f"{keras}qkv"),
                **_levit_linear_norm(f"{block}.attn.proj.ln", f"{keras}out"),
                **_levit_mlp(f"{block}.mlp", f"{keras}mlp_"),
            }
        if not isinstance(stage.downsample, torch.nn.Identity):
            down, keras = f"stages.{stage_index}.downsample", f"stack{stage_index}_downsample_"
            mapping |= {
                f"{down}.attn_downsample.attention_biases": Source(
                    (f"{keras}attn_pos/positional_embedding",), heads_first
                ),
                **_levit_linear_norm(f"{down}.attn_downsample.q.ln", f"{keras}q"),
                **_levit_linear_norm(f"{down}.attn_downsample.kv", f"{keras}kv"),
                **_levit_linear_norm(f"{down}.attn_downsample.proj.ln", f"{keras}out"),
                **_levit_mlp(f"{down}.mlp", f"{keras}mlp_"),
            }
    return mapping


# kecam convnext/convnext.py: 'stem_conv', 'stem_ln'; 'stack<s>_downsample_ln' and
# 'stack<s>_downsample_conv' before stages 2-4; per block 'stack<s>_block<b>_' + dw_conv
# (depthwise, with bias), ln, up_dense, down_dense, gamma (layer scale, variable 'weight');
# 'head_ln', 'predictions'.
def convnext_mapping(module: torch.nn.Module) -> Mapping:
    mapping = {
        **conv("stem.0", "stem_conv"),
        **layer_norm("stem.1", "stem_ln"),
        **layer_norm("head.norm", "head_ln"),
        **dense("head.fc", "predictions"),
    }
    for stage_index, stage in enumerate(module.stages):
        stack = f"stack{stage_index + 1}"
        if not isinstance(stage.downsample, torch.nn.Identity):
            mapping |= layer_norm(f"stages.{stage_index}.downsample.0", f"{stack}_downsample_ln")
            mapping |= conv(f"stages.{stage_index}.downsample.1", f"{stack}_downsample_conv")
        for index in range(len(stage.blocks)):
            block, keras = f"stages.{stage_index}.blocks.{index}", f"{stack}_block{index + 1}_"
            mapping |= {
                f"{block}.gamma": Source((f"{keras}gamma/weight",), same),
                **conv(f"{block}.conv_dw", f"{keras}dw_conv", depthwise=True),
                **layer_norm(f"{block}.norm", f"{keras}ln"),
                **dense(f"{block}.mlp.fc1", f"{keras}up_dense"),
                **dense(f"{block}.mlp.fc2", f"{keras}down_dense"),
            }
    return mapping


def relative_position_table(table: np.ndarray) -> np.ndarray:
    """kecam's (heads, (2h-1)(2w-1)) table, indexed by query minus key position, as timm's
    ``RelPosBiasTf`` (heads, 2h-1, 2w-1) table, indexed by key minus query: reshape, then
    reverse both position axes."""
    heads, size = table.shape
    side = int(round(size**0.5))
    if side * side != size:
        raise ValueError(f"table of {size} positions is not square")
    return table.reshape(heads, side, side)[:, ::-1, ::-1]


# kecam maxvit/maxvit.py (the official TF MaxViT's layout, which timm's maxvit_*_tf models also
# follow): 'stem_1_conv', 'stem_1_bn', 'stem_2_conv'; per block 'stack_<s>_block_<b>/' +
# 'mbconv/' (preact_bn, expand_conv, expand_bn, MB_dw_conv, MB_dw_bn, se/1_conv, se/2_conv,
# MB_pw_conv, shortcut_conv in a stage's first block), then for the window ('block_') and grid
# ('grid_') attention: attn_preact_ln, window_mhsa/qkv_conv (1x1 conv = timm's qkv Linear, q | k
# | v each heads x head_dim, as timm's head_first=False), window_mhsa/pos_emb, window_mhsa/output,
# ffn_preact_ln, ffn/1_dense, ffn/2_dense; 'post_ln', 'features' (pre-logits, tanh),
# 'predictions'.
def _maxvit_attention(torch_prefix: str, keras: str) -> Mapping:
    return {
        **layer_norm(f"{torch_prefix}.norm1", f"{keras}attn_preact_ln"),
        **dense(
            f"{torch_prefix}.attn.qkv", f"{keras}window_mhsa/qkv_conv", kernel=pointwise_to_linear
        ),
        f"{torch_prefix}.attn.rel_pos.relative_position_bias_table": Source(
            (f"{keras}window_mhsa/pos_emb/positional_embedding",), relative_position_table
        ),
        **dense(f"{torch_prefix}.attn.proj", f"{keras}window_mhsa/output"),
        **layer_norm(f"{torch_prefix}.norm2", f"{keras}ffn_preact_ln"),
        **dense(f"{torch_prefix}.mlp.fc1", f"{keras}ffn/1_dense"),
        **dense(f"{torch_prefix}.mlp.fc2", f"{keras}ffn/2_dense"),
    }


def maxvit_mapping(module: torch.nn.Module) -> Mapping:
    parameters = dict(module.named_parameters())
    mapping = {
        **conv("stem.conv1", "stem_1_conv"),
        **batch_norm("stem.norm1", "stem_1_bn"),
        **conv("stem.conv2", "stem_2_conv"),
        **layer_norm("head.norm", "post_ln"),
        **dense("head.pre_logits.fc", "features"),
        **dense("head.fc", "predictions"),
    }
    for stage_index, stage in enumerate(module.stages):
        for index in range(len(stage.blocks)):
            prefix = f"stages.{stage_index}.blocks.{index}"
            keras = f"stack_{stage_index + 1}_block_{index + 1}/"
            mbconv = f"{keras}mbconv/"
            mapping |= {
                **batch_norm(f"{prefix}.conv.pre_norm", f"{mbconv}preact_bn"),
                **conv(f"{prefix}.conv.conv1_1x1", f"{mbconv}expand_conv", bias=False),
                **batch_norm(f"{prefix}.conv.norm1", f"{mbconv}expand_bn"),
                **conv(
                    f"{prefix}.conv.conv2_kxk", f"{mbconv}MB_dw_conv", bias=False, depthwise=True
                ),
                **batch_norm(f"{prefix}.conv.norm2", f"{mbconv}MB_dw_bn"),
                **conv(f"{prefix}.conv.se.fc1", f"{mbconv}se/1_conv"),
                **conv(f"{prefix}.conv.se.fc2", f"{mbconv}se/2_conv"),
                **conv(f"{prefix}.conv.conv3_1x1", f"{mbconv}MB_pw_conv"),
                **_maxvit_attention(f"{prefix}.attn_block", f"{keras}block_"),
                **_maxvit_attention(f"{prefix}.attn_grid", f"{keras}grid_"),
            }
            if f"{prefix}.conv.shortcut.expand.weight" in parameters:
                mapping |= conv(f"{prefix}.conv.shortcut.expand", f"{mbconv}shortcut_conv")
    return mapping


LAYOUTS: dict[str, Layout] = {
    "vit_keras.vit_b16": Layout(
        keras_model="vit-keras vit.vit_b16(image_size=224, include_top=True)",
        arch="vit_base_patch16_224",
        mapping=vit_keras_mapping,
    ),
    "kecam.LeViT128": Layout(
        keras_model="kecam levit.LeViT128(use_distillation=False)",
        arch="levit_128",
        mapping=levit_mapping,
        arch_kwargs={"distilled": False},
    ),
    "kecam.ConvNeXtTiny": Layout(
        keras_model="kecam convnext.ConvNeXtTiny()",
        arch="convnext_tiny",
        mapping=convnext_mapping,
    ),
    "kecam.MaxViT_Tiny": Layout(
        keras_model="kecam maxvit.MaxViT_Tiny()",
        arch="maxvit_tiny_tf_224",
        mapping=maxvit_mapping,
    ),
}


def load(path: str | Path, layout: str) -> torch.nn.Module:
    """The timm model of ``layout`` in eval mode with the weights of the file ``path``."""
    entry = LAYOUTS[layout]
    module = entry.architecture()
    load_weights(module, read_weights(path), entry, path)
    return module.eval()
