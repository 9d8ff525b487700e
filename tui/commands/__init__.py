"""CLI subcommands: each module here has ``register(subparsers)``; ``tui.cli`` finds them all.

A new feature adds a module; nothing else needs editing, so parallel work does
not collide in one file.
"""
