"""Reading and writing: the canonical dataset format, netCDF artifacts with provenance, atomic
writes, the activation cache, downloads and where they are kept, zip archives, TFRecords,
image folders, logs, script jobs and their memory."""

__all__ = [
    "archives",
    "artifacts",
    "atomic",
    "cache",
    "dataset",
    "download",
    "imagefolder",
    "jobs",
    "logs",
    "memory",
    "provenance",
    "resources",
    "tfrecord",
]
