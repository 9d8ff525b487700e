"""Headless domain of the Xueji Duty Desk.

Nothing in this package may import Textual or Rich: the CLI, the tests and
any future front end use the same rules. ``tests/test_import_hygiene.py``
holds the line.
"""
