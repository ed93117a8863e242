"""Where each tensor of a timm architecture comes from in a weights-only Keras file: the layout
changes (Keras -> torch) and one mapping per registered architecture
(``neuralign.models.sources.keras_weights.LAYOUTS``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Source:
    """Where one timm tensor comes from: Keras weight names and how to convert them."""

    keras: tuple[str, ...]
    convert: Callable[..., np.ndarray]


Mapping = dict[str, Source]


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
