"""How wide text set in Arial is, roughly: enough to decide whether a header value fits its line
without a layout engine.

Advance widths are Arial's (the metric-compatible Helvetica/Liberation Sans values, in 1/1000 em)
for printable ASCII; anything else counts as ``_OTHER`` (wide Latin letters, most CJK is wider
still, so a line of it is estimated short rather than long).
"""

from __future__ import annotations

__all__ = ["AVERAGE_UNITS", "fits_one_line", "text_width"]

_REGULAR = (
    "278 278 355 556 556 889 667 191 333 333 389 584 278 333 278 278 "  # space ! " # $ % & ' ( ) * + , - . /
    "556 556 556 556 556 556 556 556 556 556 278 278 584 584 584 556 "  # 0-9 : ; < = > ?
    "1015 667 667 722 722 667 611 778 722 278 500 667 556 833 722 778 "  # @ A-O
    "667 778 722 667 611 722 667 944 667 667 611 278 278 278 469 556 "  # P-Z [ \\ ] ^ _
    "333 556 556 500 556 556 278 556 556 222 222 500 222 833 556 556 "  # ` a-o
    "556 556 333 500 278 556 500 722 500 500 500 334 260 334 584"  # p-z { | } ~
)
_BOLD = (
    "278 333 474 556 556 889 722 238 333 333 389 584 278 333 278 278 "
    "556 556 556 556 556 556 556 556 556 556 333 333 584 584 584 611 "
    "975 722 722 722 722 667 611 778 722 278 556 722 611 833 722 778 "
    "667 778 722 667 611 722 667 944 667 667 611 333 278 333 584 556 "
    "333 556 611 556 611 556 333 611 611 278 278 556 278 889 611 611 "
    "611 611 389 556 333 611 556 778 556 556 500 389 280 389 584"
)
_OTHER = 1000
# Where text is not measured character by character (a row height over 20,000 rows of comments
# would take seconds), a generous average: a paragraph is estimated longer than it is.
AVERAGE_UNITS = 600
_WIDTHS = {False: tuple(int(w) for w in _REGULAR.split()), True: tuple(int(w) for w in _BOLD.split())}


def text_width(text: str, size_pt: float, *, bold: bool = False) -> int:
    """The width of ``text`` on one line, in twips."""
    table = _WIDTHS[bold]
    units = 0
    for ch in text:
        code = ord(ch) - 32
        units += table[code] if 0 <= code < len(table) else _OTHER
    return round(units * size_pt * 20 / 1000)


def fits_one_line(runs: list[tuple[str, bool]], size_pt: float, width: int) -> bool:
    """Whether the runs (text, bold) set one after the other fit in ``width`` twips."""
    return sum(text_width(text, size_pt, bold=bold) for text, bold in runs) <= width
