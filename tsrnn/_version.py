"""The package version (in its own module, so that any module can read it without an
import cycle through the package root)."""

__version__ = "0.1.0"
