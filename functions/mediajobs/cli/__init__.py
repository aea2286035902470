"""Operator and demo command line: `python -m mediajobs.cli --help`."""
