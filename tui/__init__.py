"""The terminal front end: the Textual app, shared widgets and the CLI entry."""

__version__ = "0.1.0"
