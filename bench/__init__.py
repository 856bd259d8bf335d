"""Benchmarks of dixian's stages. Run `python -m bench` (all) or `python -m bench NAME ...`."""
