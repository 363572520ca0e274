"""Reporting: a RunResult (results.json) as tables, comparisons, plots and report.html. Nothing here
re-scores; every number comes from results.json.

    frames.py    DataFrames of jobs and of calls, aggregates with intervals, latency, tokens, cost
    tables.py    summary.md and the cells every view shares (re-exports the frames)
    terminal.py  the terminal report (rich tables folded to the width)
    compare.py   models side by side, paired tests, accuracy vs offered tools
    plots.py     matplotlib figures (PNG)
    html.py      the self-contained report.html
"""


def import_libraries(*, html: bool) -> None:
    """Import what rendering a run's reports needs (~0.5 s: pandas and rich; with ``html``, jinja2
    and matplotlib's Agg canvas), for a caller with time to spare before it renders: the CLI does it
    on a thread while worker processes run the jobs. Raises ImportError as the imports would."""
    import pandas  # noqa: F401
    import rich.console
    import rich.table  # noqa: F401

    from . import terminal  # noqa: F401

    if html:
        import jinja2  # noqa: F401
        import matplotlib.backends.backend_agg
        import matplotlib.figure  # noqa: F401

        from . import html as html_report  # noqa: F401
