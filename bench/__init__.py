"""Benchmarks of the live board (``make bench`` / ``python -m bench``); figures go into the README."""
