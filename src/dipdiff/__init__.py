"""dipdiff: watch what governments say.

Snapshot official statements, redline their silent edits, and compare what
different agencies said about the same event. The core (extract, diff,
compare, the store) is importable without the command line.
"""

__version__ = "0.1.0"
