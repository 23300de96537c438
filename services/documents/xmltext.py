"""Text → WordprocessingML helpers shared by the document writers.

Everything here works on plain strings, so the comment-table writer can build row XML with
f-strings instead of lxml objects (see ``comment_table``): stripping the characters XML 1.0
forbids, escaping ``& < >``, and turning multi-line text into one ``w:p`` per line with tabs as
``w:tab``. ``clean_text`` is also what the python-docx based report feeds every value through,
because lxml rejects control characters with a ValueError.
"""

from __future__ import annotations

import re

# XML 1.0 allows #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
# Python strings may also carry lone surrogates (from surrogateescape decoding); drop them too.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAK = re.compile("\r\n|\r|\n|\u2028|\u2029|\x85")

_PRESERVE = ' xml:space="preserve"'


def clean_text(text: str) -> str:
    """Return ``text`` without the characters XML 1.0 forbids (NUL, vertical tab, form feed …)."""
    if text.isprintable():  # fast path: printable text has no control chars or surrogates
        return text
    return _ILLEGAL_XML.sub("", text)


def escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` for element content (quotes need no escaping there)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def escape_attr(text: str) -> str:
    """Escape a value for a double-quoted attribute."""
    return escape(clean_text(text)).replace('"', "&quot;")


def split_lines(text: str) -> list[str]:
    """Split on every kind of line break (CRLF, CR, LF, U+2028/2029, NEL)."""
    return _LINE_BREAK.split(text)


def _needs_preserve(line: str) -> bool:
    # Only the XML space character matters here: tabs are written as w:tab, not inside w:t.
    return line[0] == " " or line[-1] == " " or "  " in line


def run_xml(line: str) -> str:
    """One ``w:r`` for a single line of already-cleaned text; tabs become ``w:tab``. Empty → ''."""
    if not line:
        return ""
    if "\t" in line:
        parts = []
        for i, piece in enumerate(line.split("\t")):
            if i:
                parts.append("<w:tab/>")
            if piece:
                attr = _PRESERVE if _needs_preserve(piece) else ""
                parts.append(f"<w:t{attr}>{escape(piece)}</w:t>")
        return "<w:r>" + "".join(parts) + "</w:r>"
    attr = _PRESERVE if _needs_preserve(line) else ""
    return f"<w:r><w:t{attr}>{escape(line)}</w:t></w:r>"


def paragraphs_xml(text: str, p_open: str) -> str:
    """The ``w:p`` elements of one table cell holding ``text``.

    ``p_open`` is the opening of each paragraph including its properties, e.g.
    ``'<w:p><w:pPr><w:pStyle w:val="ISOComments"/></w:pPr>'``. Every line of ``text`` becomes
    its own paragraph; an empty text still yields one (empty) paragraph, because a ``w:tc``
    without a ``w:p`` is invalid and Word refuses to open the file.
    """
    if not text:
        return p_open + "</w:p>"
    # Fast path for the common case: one printable line (no controls, tabs, line breaks,
    # surrogates), only escaping and the whitespace check left to do.
    if text.isprintable():
        attr = _PRESERVE if _needs_preserve(text) else ""
        if "&" in text or "<" in text or ">" in text:
            text = escape(text)
        return f"{p_open}<w:r><w:t{attr}>{text}</w:t></w:r></w:p>"
    text = _ILLEGAL_XML.sub("", text)
    return "".join(f"{p_open}{run_xml(line)}</w:p>" for line in split_lines(text))
