"""The package version (one place; ``gigawatt.__version__``)."""

__version__ = "0.1.0"
