"""Config and input functions of the harmonizer stage (rules in harmonizer.smk)."""

from neuralign.datasets import clickme as clickme_data

HARMONIZER = config["harmonizer"]
HARMONIZER_RUNS = HARMONIZER["runs"]
ALIGNMENT = HARMONIZER["alignment"]["enabled"]


def clickme_shards(split, needed):
    """The ClickMe shards of ``split``: those of the configured folder (checked by
    neuralign.config.check_harmonizer), else, when ``needed``, the published shards, which rule
    download fetches into resources/ (no checksums are published; trust on first use); else
    none."""
    folder = HARMONIZER["clickme"][split]
    if folder:
        return [str(path) for path in clickme_data.shard_paths(folder, split)]
    if not needed:
        return []
    files = {
        resource_path(remote): remote for remote in clickme_data.remote_shards(split)
    }
    REMOTE_FILES.update(files)
    NEEDED_DOWNLOADS.update(files)
    return list(files)


# shards are fetched only for what needs them: training runs on ClickMe, alignment scoring
CLICKME_TRAIN = clickme_shards(
    "train", any(run["data"] != "synthetic" for run in HARMONIZER_RUNS.values())
)
CLICKME_VAL = clickme_shards("val", ALIGNMENT)

for _options in HARMONIZER_RUNS.values():
    REMOTE_FILES.update(weights_download(_options["base"]))
    NEEDED_DOWNLOADS.update(weights_download(_options["base"]))


def base_weights(wildcards):
    """The weights file of a run's base model, if it reads one (e.g. downloaded hub weights)."""
    return weights_file(HARMONIZER_RUNS[wildcards.run]["base"]) or []


def harmonize_shards(wildcards):
    """ClickMe training shards of a run that trains on ClickMe."""
    return (
        [] if HARMONIZER_RUNS[wildcards.run]["data"] == "synthetic" else CLICKME_TRAIN
    )


def alignment_enabled():
    return bool(CLICKME_VAL) and ALIGNMENT


def alignment_files(wildcards=None):
    """Human-alignment tables of the selected models (when alignment scoring is enabled)."""
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
