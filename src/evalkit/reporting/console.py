"""Plain-text rich output for the terminal reports (``evalkit run``/``report``, ``evalkit gate``):
a console that writes to a string at a fixed width, tables in the shape of tabulate's "simple"
format that fall back to one space between columns when two do not fit, and legends that fold.
No colour, no markup: the output is read in CI logs as often as in a terminal, and must survive a pipe.
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
    Columns keep their values whole (up to 40 characters), so a narrow terminal wraps the headers; only
    the columns listed in ``wrap`` wrap their values. ``tight`` puts one space between columns instead
    of two."""
    from rich.box import Box
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
        widest = max((len(line) for row in cells for line in row[i].splitlines()), default=0)
        table.add_column(
            header,
            justify=("right" if i in right else "left") if right is not None else ("left" if i < left else "right"),
            overflow="fold",
            min_width=None if i in wrap else min(widest, 40),
        )
    for row in cells:
        table.add_row(*row)
    return table


# Model output reaches the failure lines; an escape sequence in it must not drive the reader's terminal.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(text: str) -> str:
    """``text`` with control characters (escape sequences included) replaced by U+FFFD."""
    return _CONTROL.sub("\ufffd", text)


def print_fitting(console: Console, title: str | None, *candidates: Table) -> None:
    """Print ``title`` (a line of its own: a table title would wrap to the table's width), then the first
    table that fits the width at its natural size (the last one otherwise): rich squeezes a table that
    is too wide, and may then cut a number."""
    table = next((t for t in candidates if fits(console, t)), candidates[-1])
    if title:
        print_legend(console, title)
    console.print(table)


def fits(console: Console, table: Table) -> bool:
    """Whether ``table`` at its natural width fits the console's width."""
    from rich.measure import Measurement

    return Measurement.get(console, console.options.update_width(10_000), table).maximum <= console.width


def print_table(
    console: Console, title: str | None, headers: Sequence[str], rows: Sequence[Sequence[Any]], **kw: Any
) -> None:
    """The table with two spaces between columns, or with one when two do not fit."""
    print_fitting(console, title, plain_table(headers, rows, **kw), plain_table(headers, rows, tight=True, **kw))


def print_legend(console: Console, text: str) -> None:
    """A line of text, folded to the width (a long word is cut, not pushed past the edge)."""
    from rich.text import Text

    console.print(Text(text, overflow="fold"))
