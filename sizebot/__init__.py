"""sizebot: where every byte of a Go binary and its container image goes, and what a pull request changes."""

__version__ = "0.1.0"
