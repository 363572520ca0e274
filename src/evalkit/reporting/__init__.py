"""Reporting: a RunResult (results.json) as tables, comparisons, plots and report.html. Nothing here
re-scores; every number comes from results.json.

    tables.py    DataFrame of jobs, aggregates with intervals, terminal table, summary.md
    compare.py   models side by side, paired tests, accuracy vs offered tools
    plots.py     matplotlib figures (PNG)
    html.py      the self-contained report.html
"""
