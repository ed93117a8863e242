"""Reference outputs of the four weights-only harmonized architectures, computed by their own
Keras libraries (run by tests/models/test_keras_weights.py in a subprocess, away from PyTorch).

For each model: build it as serre-lab/Harmonization's loaders do (harmonization/models/vit.py,
levit.py, convnext.py, maxvit.py at commit ffe1c49dba425504a74b050cedc8382a423448f3) with seeded
random weights, give every constant-initialised variable (zeros, ones, layer scales, batch-norm
statistics, position tables) seeded random values so that no tensor can be mapped wrongly
unnoticed, save the weights the way the published files were saved (tf.keras 2
``save_weights("<name>.h5")``), and write the logits and two inner layers' outputs on the given
images to ``<name>.npz``.

Usage: python keras_reference.py IMAGES.npy OUT_DIR
"""

import os
import sys
import types

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras = tf-keras (Keras 2), as in 2022
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _no_tensorflow_addons(name: str):
    """vit-keras 0.1.x imports tensorflow_addons (which supports TensorFlow <= 2.15 only) for a
    gelu fallback it uses only when tf.keras lacks gelu; any use of this stand-in fails."""
    raise AttributeError(f"tensorflow_addons.{name} is not available in this environment")


_stand_in = types.ModuleType("tensorflow_addons")
_stand_in.__getattr__ = _no_tensorflow_addons
sys.modules.setdefault("tensorflow_addons", _stand_in)

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras_cv_attention_models.convnext import ConvNeXtTiny  # noqa: E402
from keras_cv_attention_models.levit import LeViT128  # noqa: E402
from keras_cv_attention_models.maxvit import MaxViT_Tiny  # noqa: E402
from vit_keras import vit  # noqa: E402

BUILDERS = {
    "vit_b16": lambda: vit.vit_b16(
        image_size=224,
        activation="linear",
        pretrained=False,
        include_top=True,
        pretrained_top=False,
    ),
    "levit_128": lambda: LeViT128(
        classifier_activation=None, use_distillation=False, pretrained=None
    ),
    "convnext_tiny": lambda: ConvNeXtTiny(classifier_activation=None, pretrained=None),
    "maxvit_tiny": lambda: MaxViT_Tiny(classifier_activation=None, pretrained=None),
}
# Two inner layers per model, saved as inner0 and inner1 (compared with the timm modules named
# in tests/models/test_keras_weights.py).
INNER = {
    "vit_b16": ["Transformer/encoderblock_5", "Transformer/encoder_norm"],
    "levit_128": ["stack1_block4_mlp_add", "stack2_block4_mlp_add"],
    "convnext_tiny": ["stack2_block3_output", "stack4_block3_output"],
    "maxvit_tiny": ["stack_2_block_2/grid_ffn_output", "stack_3_block_5/grid_ffn_output"],
}


def randomise_constants(model, rng) -> None:
    """Seeded random values for every variable initialised to a constant: ones (scales) become
    1 + N(0, 0.2), other constants (biases, zero-initialised scales, layer scales, position
    tables, class token, batch-norm means) N(0, 0.5), batch-norm variances U(0.5, 1.5).
    Randomly initialised kernels keep their values."""
    for variable in model.weights:
        value = variable.numpy()
        if "moving_variance" in variable.name:
            value = rng.uniform(0.5, 1.5, value.shape)
        elif value.size and np.all(value == 1):
            value = 1 + rng.normal(0, 0.2, value.shape)
        elif value.size and np.all(value == value.flat[0]):
            value = rng.normal(0, 0.5, value.shape)
        variable.assign(value.astype(variable.dtype.as_numpy_dtype))


def main(images_path: str, out_dir: str) -> None:
    images = np.load(images_path)
    for index, (name, build) in enumerate(BUILDERS.items()):
        tf.keras.utils.set_random_seed(index)
        model = build()
        randomise_constants(model, np.random.default_rng(index))
        model.save_weights(os.path.join(out_dir, f"{name}.h5"))
        outputs = [model.get_layer(layer).output for layer in INNER[name]]
        outputs = [out[0] if isinstance(out, (list, tuple)) else out for out in outputs]
        probe = tf.keras.Model(model.inputs, [model.output, *outputs])
        logits, *inner = probe(images, training=False)
        np.savez(
            os.path.join(out_dir, f"{name}.npz"),
            logits=logits.numpy(),
            **{f"inner{i}": out.numpy() for i, out in enumerate(inner)},
        )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
