"""Config, checks and input functions of the harmonizer stage (rules in harmonizer.smk)."""

from neuralign.datasets import clickme as clickme_data
from neuralign.config import ConfigError
from neuralign import harmonized_models, robust_models
from neuralign.models import parse_source

HARMONIZER = config["harmonizer"]
HARMONIZER_RUNS = HARMONIZER["runs"]


def clickme_shards(split):
    """The configured ClickMe shards of ``split`` (checked at parse time), or none."""
    folder = HARMONIZER["clickme"][split]
    if not folder:
        return []
    try:
        return [str(path) for path in clickme_data.shard_paths(folder, split)]
    except FileNotFoundError as err:
        raise ConfigError(f"config 'harmonizer.clickme.{split}': {err}") from err


CLICKME_TRAIN = clickme_shards("train")
CLICKME_VAL = clickme_shards("val")

for _run, _options in HARMONIZER_RUNS.items():
    if _options["data"] != "synthetic" and not CLICKME_TRAIN:
        raise ConfigError(
            f"config 'harmonizer.runs.{_run}': data {_options['data']!r} needs ClickMe "
            "training shards; set 'harmonizer.clickme.train' to their folder"
        )
    if _options["data"] == "clickme+imagenet" and not HARMONIZER["imagenet_train"]:
        raise ConfigError(
            f"config 'harmonizer.runs.{_run}': data 'clickme+imagenet' needs "
            "'harmonizer.imagenet_train' (an ImageNet-style folder <wnid>/<image>)"
        )
    if parse_source(_options["base"])[0] == "torchvision":
        raise ConfigError(
            f"config 'harmonizer.runs.{_run}.base': harmonized checkpoints are timm models; "
            "use an offline:, timm:, timm-untrained: or checkpoint: source"
        )


def model_checkpoint(wildcards):
    """The weights file of a ``checkpoint:`` (e.g. a harmonizer run), ``keras:``, ``robust:``
    or ``harmonized:`` model (robust ones fetched by the download rule), else none."""
    kind, name = parse_source(MODEL_TABLE.loc[wildcards.model, "source"])
    if kind == "robust":
        return robust_models.checkpoint_path(name)
    if kind == "harmonized":
        return harmonized_models.weights_path(name)
    return name if kind in ("checkpoint", "keras") else []


def harmonize_shards(wildcards):
    """ClickMe training shards of a run that trains on ClickMe."""
    return (
        [] if HARMONIZER_RUNS[wildcards.run]["data"] == "synthetic" else CLICKME_TRAIN
    )


def alignment_enabled():
    return bool(CLICKME_VAL) and HARMONIZER["alignment"]["enabled"]


def alignment_files(wildcards=None):
    """Human-alignment tables of the selected models (when ClickMe validation maps exist)."""
    if not alignment_enabled():
        return []
    return expand("results/harmonizer/alignment/{model}.csv", model=MODELS)


def harmonizer_targets():
    """Outputs of this stage that `rule all` builds."""
    targets = expand(
        "results/harmonizer/{run}/{file}",
        run=HARMONIZER_RUNS,
        file=["model.pt", "history.csv"],
    )
    if HARMONIZER["demo"]["enabled"]:
        targets += [
            "results/harmonizer/demo/summary.csv",
            "results/figures/harmonizer/demo.png",
            "results/figures/harmonizer/demo.pdf",
        ]
    return targets + alignment_files()
