"""Throughput benchmark: hand-written Python vs a compiled module vs the interpreter.

See bench/README.md; `make bench` runs bench/run.py.
"""
