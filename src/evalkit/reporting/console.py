"""Plain-text rich output for the terminal reports (``evalkit run``/``report``, ``evalkit gate``):
a console that writes to a string at a fixed width, tables in the shape of tabulate's "simple"
format that fall back to one space between columns when two do not fit, and go on in further tables
below themselves when one does not either, and legends that fold.
No colour, no markup: the output is read in CI logs as often as in a terminal, and must survive a pipe.

A table never cuts a value to fit. Rich squeezes a table that is too wide; a column whose values it
may not wrap (a number, a name) it then draws wider than it was given, and the console cuts the line
at the edge: ``1,098 / 136`` read ``1,098 / 13``, and the last columns were gone. So a table is drawn
whole only when it fits (:func:`fitting_table`), and otherwise in parts (:func:`table_parts`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table


def text_console(width: int) -> Console:
    """A rich console that writes plain text (no colour, markup, emoji or highlighting) into a
    string, ``width`` columns wide; :func:`console_text` reads it back."""
    from rich.console import Console

    return Console(
        width=width,
        file=io.StringIO(),
        color_system=None,
        force_terminal=False,
        highlight=False,
        emoji=False,
        markup=False,
        soft_wrap=False,
    )


def console_text(console: Console) -> str:
    """What a :func:`text_console` has printed, without the blanks rich pads each line with."""
    file = console.file
    assert isinstance(file, io.StringIO)
    # rich pads lines with blanks up to the width; they only make lines longer
    return "\n".join(line.rstrip() for line in file.getvalue().splitlines()) + "\n"


def plain_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    left: int = 1,
    right: Sequence[int] | None = None,
    wrap: Sequence[int] = (),
    tight: bool = False,
) -> Table:
    """A table in the shape of tabulate's "simple" format. The first ``left`` columns are left-aligned
    (the rest are numbers, right-aligned), or, with ``right``, exactly those columns are right-aligned.
    Columns keep their values whole (up to 40 characters), so a narrow terminal wraps the headers, at
    their spaces: no column is narrower than its longest header word. Only the columns listed in
    ``wrap`` (prose) wrap their values. ``tight`` puts one space between columns instead of two."""
    from rich.box import Box
    from rich.cells import cell_len
    from rich.table import Table

    rule = Box("    \n    \n -  \n    \n    \n    \n    \n    \n", ascii=True)  # dashes under each header
    table = Table(
        box=rule,
        show_edge=False,
        pad_edge=False,
        padding=(0, 0 if tight else 1, 0, 0),
        header_style="none",
    )
    cells = [[plain(str(c)) for c in row] for row in rows]
    for i, header in enumerate(headers):
        widest = max((cell_len(line) for row in cells for line in row[i].splitlines()), default=0)
        word = max((cell_len(w) for w in header.split()), default=0)  # "select" is not to read "sele / ct"
        table.add_column(
            header,
            justify="right" if _right_aligned(i, left, right) else "left",
            overflow="fold",
            min_width=None if i in wrap else max(min(widest, 40), word),
        )
    for row in cells:
        table.add_row(*row)
    return table


def _right_aligned(column: int, left: int, right: Sequence[int] | None) -> bool:
    return column in right if right is not None else column >= left


# Model output reaches the failure lines; an escape sequence in it must not drive the reader's terminal.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(text: str) -> str:
    """``text`` with control characters (escape sequences included) replaced by U+FFFD."""
    return _CONTROL.sub("\ufffd", text)


def print_fitting(console: Console, title: str | None, *layouts: Sequence[Table]) -> None:
    """Print ``title`` (a line of its own: a table title would wrap to the table's width), then the
    first of the ``layouts`` (each the tables of :func:`table_parts`) that takes the fewest tables."""
    if title:
        print_legend(console, title)
    for table in min(layouts, key=len):
        console.print(table)


def print_table(
    console: Console, title: str | None, headers: Sequence[str], rows: Sequence[Sequence[Any]], **kw: Any
) -> None:
    """The table with two spaces between columns, or with one when two do not fit; when neither fits,
    in parts below each other (:func:`table_parts`, which takes ``kw``)."""
    print_fitting(console, title, table_parts(console, headers, rows, **kw))


def table_parts(
    console: Console,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    labels: int | None = None,
    left: int = 1,
    right: Sequence[int] | None = None,
    wrap: Sequence[int] = (),
) -> list[Table]:
    """The table as :func:`plain_table` draws it, when it fits the console's width (:func:`fitting_table`);
    else its columns in as many tables as it takes, one below the other, each repeating the row
    labels (the first ``labels`` columns; by default the left-aligned ones before the first number)
    and holding as many of the other columns, in order, as fit. As the README says: "a table too wide
    for the terminal continues below itself with the rest of the columns".

    When the labels and a single column do not fit either (a very narrow terminal, a very long name),
    that part lets its labels wrap: a name folded over two lines is still read right, a cut number not.
    """
    rows = [list(row) for row in rows]
    whole = fitting_table(console, headers, rows, left=left, right=right, wrap=wrap)
    if whole is not None:
        return [whole]
    if labels is None:
        labels = next((i for i in range(len(headers)) if _right_aligned(i, left, right)), len(headers))
    labels = min(labels, len(headers) - 1)  # at least one column to go on with

    def part(columns: list[int], *, wrap_labels: bool = False) -> Table | None:
        """These columns as a table of their own, if it fits; with ``wrap_labels``, as it comes."""
        sub_headers = [headers[i] for i in columns]
        sub_rows = [[row[i] for i in columns] for row in rows]
        sub_right = [j for j, i in enumerate(columns) if _right_aligned(i, left, right)]
        sub_wrap = [j for j, i in enumerate(columns) if i in wrap or (wrap_labels and i < labels)]
        if wrap_labels:  # nothing narrower to try
            return plain_table(sub_headers, sub_rows, right=sub_right, wrap=sub_wrap, tight=True)
        return fitting_table(console, sub_headers, sub_rows, right=sub_right, wrap=sub_wrap)

    parts: list[Table] = []
    rest = list(range(labels, len(headers)))
    while rest:
        columns = [*range(labels), rest.pop(0)]
        table = part(columns) or part(columns, wrap_labels=True)
        while rest and (wider := part([*columns, rest[0]])) is not None:
            columns.append(rest.pop(0))
            table = wider
        assert table is not None
        parts.append(table)
    return parts


def fitting_table(console: Console, headers: Sequence[str], rows: Sequence[Sequence[Any]], **kw: Any) -> Table | None:
    """The table (:func:`plain_table`, which takes ``kw``) at its natural width with two spaces between
    columns, else with one space, its headers and ``wrap`` columns wrapped if need be, when that fits
    the console's width with every value whole; None when it does not."""
    table = plain_table(headers, rows, **kw)
    if fits(console, table):
        return table
    table = plain_table(headers, rows, tight=True, **kw)
    if draws_within(console, table):  # as rich squeezes it: how the reports have always looked
        return table
    return table if _squeeze(console, table) else None


def _squeeze(console: Console, table: Table) -> bool:
    """Fix the widths of ``table``'s columns so that it fits the console's width, if it can: rich
    shrinks the widest columns first, a long name as soon as a header that could wrap, and then draws
    the name's column wider than it said. Here each column gets what it cannot do without (its
    ``min_width``, its longest word), then what is left of the width, left to right, up to its
    natural width. False when even the least each needs is too wide (the table is then of no use)."""
    from rich.measure import Measurement

    options = console.options.update_width(10_000)
    least: list[int] = []
    most: list[int] = []
    for column in table.columns:
        sizes = [Measurement.get(console, options, cell) for cell in [column.header, *column.cells]]
        least.append(max(column.min_width or 0, *(size.minimum for size in sizes)))
        most.append(max(least[-1], *(size.maximum for size in sizes)))
    # The columns are a divider apart, and padded on the inside only (plain_table: no pad_edge).
    _, right, _, left = table.padding
    last = len(least) - 1
    padding = sum((left if i else 0) + (right if i < last else 0) for i in range(last + 1))
    spare = console.width - last - padding - sum(least)
    if spare < 0:
        return False
    for column, low, high in zip(table.columns, least, most, strict=True):
        grow = min(spare, high - low)
        column.width = low + grow  # rich adds the padding
        spare -= grow
    return draws_within(console, table)


def fits(console: Console, table: Table) -> bool:
    """Whether ``table`` at its natural width fits the console's width."""
    from rich.measure import Measurement

    return Measurement.get(console, console.options.update_width(10_000), table).maximum <= console.width


def draws_within(console: Console, table: Table) -> bool:
    """Whether rich draws ``table`` within the console's width, squeezing it if need be. Squeezed, a
    column narrower than its ``min_width`` (its values, its longest header word) is widened back past
    the edge; rendered here without the console's cropping, the lines show it."""
    from rich.segment import Segment

    lines = Segment.split_lines(console.render(table, console.options))
    return all(Segment.get_line_length(line) <= console.width for line in lines)


def print_legend(console: Console, text: str) -> None:
    """A line of text, folded to the width (a long word is cut, not pushed past the edge)."""
    from rich.text import Text

    console.print(Text(text, overflow="fold"))
