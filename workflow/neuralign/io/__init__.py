"""Reading and writing: the canonical dataset format, netCDF artifacts with provenance, atomic
writes, the activation cache, downloads, TFRecords, image folders, logs, script jobs."""

__all__ = [
    "artifacts",
    "atomic",
    "cache",
    "dataset",
    "download",
    "imagefolder",
    "jobs",
    "logs",
    "provenance",
    "tfrecord",
]
