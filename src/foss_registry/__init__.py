"""FOSS Registry: an intake-and-approval registry for open-source package versions."""

__version__ = "0.1.0"
