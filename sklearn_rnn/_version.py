"""The package's version, in a module of its own that any module can import."""

__version__ = "0.1.0.dev0"
