"""Map predictivity: how well a layer's spatial features predict IT response maps
(``predictivity``), on the grid geometry of ``geometry``, with the ceilings and per-array
summaries of ``ceilings``, the feature-importance comparison of ``attribution``, the scores
table of ``tables`` and the workflow job of ``jobs``."""

from neuralign.analyses.maps.ceilings import (
    array_summary,
    most_reliable_neuroid,
    neighbour_ceiling,
    per_array,
    split_half_map_ceiling,
)
from neuralign.analyses.maps.geometry import (
    design,
    field_degrees,
    grid_field,
    grid_step,
    neuroid_arrays,
    sample_at_positions,
    spatial_layers,
)
from neuralign.analyses.maps.predictivity import fit_map_model, inner_score, loio
from neuralign.analyses.maps.tables import maps_table

__all__ = [
    "array_summary",
    "attribution",
    "ceilings",
    "design",
    "field_degrees",
    "fit_map_model",
    "geometry",
    "grid_field",
    "grid_step",
    "inner_score",
    "jobs",
    "loio",
    "maps_table",
    "most_reliable_neuroid",
    "neighbour_ceiling",
    "neuroid_arrays",
    "per_array",
    "predictivity",
    "sample_at_positions",
    "spatial_layers",
    "split_half_map_ceiling",
    "tables",
]
