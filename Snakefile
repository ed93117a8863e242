"""neuralign: how well do ImageNet models predict primate visual cortex?

Run `snakemake --cores all` for the paper (config/config.yaml) or
`snakemake --cores all --configfile config/demo.yaml` for the offline demo.
"""

import sys
from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")

# The library lives in workflow/neuralign; make it importable here and in every job.
sys.path.insert(0, str(Path(workflow.basedir) / "workflow"))


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/datasets.smk"
include: "workflow/rules/activations.smk"
include: "workflow/rules/fitting.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/alignment.smk"
include: "workflow/rules/maps.smk"
include: "workflow/rules/fmri.smk"
include: "workflow/rules/harmonizer.smk"
include: "workflow/rules/imagenet.smk"
include: "workflow/rules/downloads.smk"


rule all:
    default_target: True
    input:
        all_targets(),
        metric_targets(),
        maps_targets(),
        fmri_targets(),
        harmonizer_targets(),
        imagenet_targets(),
        left_out_targets(),
