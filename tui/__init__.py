"""The terminal front end: the Textual app, shared widgets and the CLI entry."""
