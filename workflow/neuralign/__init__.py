"""neuralign: score vision models as models of primate visual cortex."""

from importlib import metadata
from pathlib import Path


def _version() -> str:
    """The installed package's version; where the package is imported from a checkout without
    being installed (the ``--sdm conda`` environment imports it through
    ``workflow/scripts/neuralign``), the version of that checkout's ``pyproject.toml``."""
    try:
        return metadata.version("neuralign")
    except metadata.PackageNotFoundError:
        import tomllib

        pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
        if not pyproject.is_file():
            raise ImportError(
                f"neuralign has no package metadata and {pyproject} does not exist: install it "
                "(pip install -e <checkout>) or import it from a checkout"
            ) from None
        with open(pyproject, "rb") as handle:
            return tomllib.load(handle)["project"]["version"]


__version__ = _version()
