"""The ``truecost`` command line: a thin client of the Python API (one module per verb)."""
