"""Sort keys for the compiled comment table (SPEC §4.1).

Comments are ordered as a reader meets them in an ISO document:

    general / whole-document → title → contents → foreword → introduction
    → numbered clauses (0.1 < 1 < 3.2 < 3.10 < 10) → annexes (A < A.1 < B < … < Z < AA)
    → bibliography → index → anything else

"Scope", "Normative references" and "Terms and definitions" are placed at clauses 1, 2 and 3,
where ISO/IEC Directives Part 2 always puts them. A table, figure, note or formula named on
its own ("Table 3") goes to the last group: its number says nothing about where it stands
in the document. The last group is ordered case-insensitively with numbers compared as
numbers ("Table 2" before "Table 10").

Every key has the same shape at every position, so plain `sorted()` never compares an int
with a str, whatever text (or None) arrives.
"""

from __future__ import annotations

import re
from functools import lru_cache

_GENERAL, _TITLE, _CONTENTS, _FOREWORD, _INTRODUCTION = 0, 1, 2, 3, 4
_NUMBERED, _ANNEX, _BIBLIOGRAPHY, _INDEX, _OTHER = 5, 6, 7, 8, 9

_GENERAL_WORDS = frozenset(
    {
        "",
        "general",
        "generally",
        "all",
        "whole",
        "overall",
        "global",
        "entire",
        "document",
        "n/a",
        "na",
        "none",
        "various",
    }
)
_FRONT_MATTER = {
    "title": _TITLE,
    "cover": _TITLE,
    "contents": _CONTENTS,
    "toc": _CONTENTS,
    "foreword": _FOREWORD,
    "introduction": _INTRODUCTION,
    "intro": _INTRODUCTION,
    "bibliography": _BIBLIOGRAPHY,
    "index": _INDEX,
}
_FIXED_CLAUSES = (
    ("scope", (1,)),
    ("normative references", (2,)),
    ("normative reference", (2,)),
    ("terms and definitions", (3,)),
    ("terms, definitions", (3,)),
)

_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
_CLAUSE_PREFIX_RE = re.compile(
    r"^(?:sub-?clauses?|clauses?|cl\.?|sections?|sec\.?|§+|art\.?|articles?)\s*",
    re.IGNORECASE,
)
_NUMBER_RE = re.compile(r"^([0-9]+(?:\.[0-9]+)*)(?![0-9])\.?\s*(.*)$", re.DOTALL)
_ANNEX_WORD_RE = re.compile(
    r"^(?:annexe|annex|appendix|anhang)[\s.:]+([A-Za-z]{1,2})(?![A-Za-z])"
    r"(?:\.([0-9]+(?:\.[0-9]+)*))?\.?\s*(.*)$",
    re.IGNORECASE | re.DOTALL,
)
# A bare "A", "A.1" or "B.2.3 (informative)": one capital letter and nothing word-like after it.
_ANNEX_BARE_RE = re.compile(r"^([A-Z])(?:\.([0-9]+(?:\.[0-9]+)*))?(?![0-9A-Za-z])\.?\s*(.*)$", re.DOTALL)
_DIGITS = frozenset("0123456789")
_CHUNK_RE = re.compile(r"[0-9]+|[^0-9]+")
_LINE_WORD_RE = re.compile(r"(?:\blines?\b|\bll?\b\.?|\bz\.)\s*([0-9]+)", re.IGNORECASE)
_FIRST_INT_RE = re.compile(r"[0-9]+")

Natural = tuple[tuple[int, int, str], ...]
ClauseKey = tuple[int, str, tuple[int, ...], Natural, str]


def _natural(text: str) -> Natural:
    """Case-insensitive text with embedded numbers compared as numbers; each chunk is a
    (kind, number, text) triple so digits and words never meet as int against str."""
    return tuple((0, int(c), "") if c[0] in _DIGITS else (1, 0, c) for c in _CHUNK_RE.findall(text.casefold().strip()))


def _nums(dotted: str | None) -> tuple[int, ...]:
    return tuple(int(p) for p in dotted.split(".")) if dotted else ()


@lru_cache(maxsize=8192)
def _clause_key(raw: str) -> ClauseKey:
    text = " ".join(raw.split())
    folded = text.casefold()
    words = _WORD_RE.findall(folded)

    if not words or folded in _GENERAL_WORDS or words[0] in _GENERAL_WORDS:
        # Pure punctuation ("—", "-", "*") also lands here: it names no place in the text.
        return (_GENERAL, "", (), _natural(text), raw)
    if words[0] in _FRONT_MATTER:
        return (_FRONT_MATTER[words[0]], "", (), _natural(text), raw)
    for name, number in _FIXED_CLAUSES:
        if folded.startswith(name):
            return (_NUMBERED, "", number, _natural(text[len(name) :]), raw)

    stripped = _CLAUSE_PREFIX_RE.sub("", text, count=1)
    m = _NUMBER_RE.match(stripped)
    if m:
        return (_NUMBERED, "", _nums(m.group(1)), _natural(m.group(2)), raw)

    m = _ANNEX_WORD_RE.match(text) or _ANNEX_BARE_RE.match(text)
    if m:
        letters = m.group(1).upper()
        # Length first, so annex Z comes before annex AA.
        return (_ANNEX, f"{len(letters)}{letters}", _nums(m.group(2)), _natural(m.group(3)), raw)

    return (_OTHER, "", (), _natural(text), raw)


def clause_key(clause: str | None) -> tuple[object, ...]:
    # The trailing flag keeps None and "" apart, so equal keys mean equal input.
    if isinstance(clause, str):
        return (*_clause_key(clause), 1)
    return (*_clause_key(""), 0)


LineKey = tuple[int, int, Natural, str]


@lru_cache(maxsize=8192)
def _line_key(raw: str) -> LineKey:
    # "17-19" sorts at 17, "l. 5" at 5; when a page is named too, the line number wins.
    m = _LINE_WORD_RE.search(raw)
    digits = m.group(1) if m else None
    if digits is None:
        first = _FIRST_INT_RE.search(raw)
        digits = first.group(0) if first else None
    if digits is not None:
        return (0, int(digits), _natural(raw), raw)
    # Empty and unreadable line numbers come after every numbered one.
    return (1, 0, _natural(raw), raw)


def line_key(line: str | None) -> tuple[object, ...]:
    if isinstance(line, str):
        return (*_line_key(line), 1)
    return (*_line_key(""), 0)


def _text_key(text: str | None) -> tuple[Natural, str]:
    value = text if isinstance(text, str) else ""
    return (_natural(value), value)


# A table repeats a handful of body codes thousands of times; references are unique.
_body_key = lru_cache(maxsize=1024)(_text_key)


def comment_order_key(clause: str | None, line: str | None, body: str, reference: str) -> tuple[object, ...]:
    return (*comment_order_prefix(clause, line, body), reference_key(reference))


def comment_order_prefix(clause: str | None, line: str | None, body: str) -> tuple[object, ...]:
    """`comment_order_key` without its last part, `reference_key(reference)`: sorters of many rows
    compute that part only between rows whose prefixes are equal."""
    return (clause_key(clause), line_key(line), _body_key(body))


def reference_key(reference: str) -> tuple[Natural, str]:
    return _text_key(reference)


def member_order_key(body: str, reference: str, clause: str | None, line: str | None) -> tuple[object, ...]:
    # A body's references follow its submission order, so the clause only breaks ties.
    return (_body_key(body), _text_key(reference), clause_key(clause), line_key(line))
