"""Reading and writing: the canonical dataset format, netCDF artifacts with provenance, atomic
writes, the activation cache, downloads, TFRecords, image folders, logs."""

__all__ = [
    "artifacts",
    "atomic",
    "cache",
    "dataset",
    "download",
    "imagefolder",
    "logs",
    "provenance",
    "tfrecord",
]
