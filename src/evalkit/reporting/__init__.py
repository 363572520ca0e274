"""Reporting: a RunResult (results.json) as tables, comparisons, plots and report.html. Nothing here
re-scores; every number comes from results.json.

    frames.py    DataFrames of jobs and of calls, aggregates with intervals, latency, tokens, cost
    tables.py    summary.md and the cells every view shares (re-exports the frames)
    terminal.py  the terminal report (rich tables folded to the width)
    compare.py   models side by side, paired tests, accuracy vs offered tools
    plots.py     matplotlib figures (PNG)
    html.py      the self-contained report.html
"""
