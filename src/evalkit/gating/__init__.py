"""Gating: a run against its baseline, for CI.

gate.py      RunResult vs baseline -> Verdict (a value; never exits)
trials.py    repeated trials: per-case pass rates, pass@k, pass^k, flaky cases
junit.py     JUnit XML for CI test reporters
cli.py       `evalkit gate` and `evalkit baseline save|show`
"""
