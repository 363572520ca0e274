"""Importers: other projects' evaluation data converted into evalkit case files.

``bfcl`` reads the Berkeley Function Calling Leaderboard data (Apache-2.0) from the ``bfcl-eval``
wheel; ``bfcl_cases`` turns its entries into suites. Nothing here calls a model.
"""
