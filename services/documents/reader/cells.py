"""Parsers for the text of one cell: MB/NC references, comment types, observations, joined paragraphs."""

from __future__ import annotations

import re
from collections.abc import Mapping

_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d", "-"))


def _to_int(text: str, default: int, low: int, high: int) -> int:
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:  # "" or "NaN"
        return default
    return min(max(value, low), high)


def _join_lines(paragraphs: list[str]) -> str:
    """Paragraphs joined with newlines; empty leading/trailing paragraphs and edge spaces trimmed."""
    lines = [line.rstrip() for line in paragraphs]
    while lines and not lines[-1]:
        lines.pop()
    start = 0
    while start < len(lines) and not lines[start]:
        start += 1
    text = "\n".join(lines[start:]).strip()
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _first_line(text: str) -> str:
    for line in text.split("\n"):
        line = line.strip()
        if line:
            return line
    return ""


_REFERENCE = re.compile(r"^(?P<prefix>.*?)\s*-\s*(?P<number>\d[\w.]*(?:\s*-\s*\d[\w.]*)*)$")
# The 2018.1 collation tool's forms: a space for the hyphen ("GB 003", "**  073") and a body's own
# file number before the serial ("JP01 023": the first of several JISC files, all JP).
_SPACED_REFERENCE = re.compile(r"^(?P<prefix>(?:[A-Za-z]{2}|\*\*)\d*)\s+(?P<number>\d+)$")
_CODE_WITH_FILE_NUMBER = re.compile(r"^(?P<code>[A-Z]{2,}|\*\*)(?P<file>\d+)$")
_CODE_WITH_NAME = re.compile(r"^(?P<code>[^()]+?)\s*\((?P<name>[^()]*)\)$")
_PLACEHOLDER = re.compile(r"^(X{2,}|\?+|TBD|N/?A|-+)$", re.I)
_TWO_LETTERS = re.compile(r"^[A-Za-z]{2}$")


def _alias_map(aliases: Mapping[str, str]) -> dict[str, str]:
    return {key.strip().upper(): value for key, value in aliases.items() if key and key.strip()}


def _resolve_prefix(prefix: str, amap: Mapping[str, str]) -> str | None:
    if not prefix:
        return None
    upper = prefix.upper()
    if upper in amap:
        return amap[upper]
    if upper == "**":
        return "**"
    if _PLACEHOLDER.match(prefix):
        return None
    m = _CODE_WITH_FILE_NUMBER.match(upper)  # DK2 → DK (the second Danish file)
    if m and (m["code"] in amap or len(m["code"]) == 2 or m["code"] == "**"):
        return amap.get(m["code"], m["code"])
    if _TWO_LETTERS.match(prefix):
        return upper
    m = _CODE_WITH_NAME.match(prefix)  # "DE (DIN)"; but "JRC (EC)" stays a liaison's name
    if m and m["code"].strip().upper() in amap:
        return amap[m["code"].strip().upper()]
    if "/" in prefix:  # "DE/DIN"; but "CEN/TC 465" stays a liaison's name
        codes = {amap.get(part.strip().upper()) for part in prefix.split("/")}
        if len(codes) == 1 and None not in codes:
            return codes.pop()
    return prefix


def _parse_mb(mb: str, amap: Mapping[str, str]) -> tuple[str | None, str]:
    written = _first_line(mb.translate(_DASHES))
    if not written:
        return None, ""
    first = " ".join(written.split())
    m = _REFERENCE.match(first)
    if m:
        prefix = m["prefix"].strip()
        number = re.sub(r"\s*-\s*", "-", m["number"])
        return _resolve_prefix(prefix, amap), f"{prefix}-{number}"
    m = _SPACED_REFERENCE.match(first)
    if m:
        # Kept as written, spaces included: it is how the secretariat's own files name the row.
        return _resolve_prefix(m["prefix"], amap), written
    if _PLACEHOLDER.match(first):
        return None, ""
    code = _resolve_prefix(first, amap)
    m = _CODE_WITH_FILE_NUMBER.match(first.upper())
    return code, (first if m and first.upper() not in amap else "")


def parse_mb(mb: str, aliases: Mapping[str, str]) -> tuple[str | None, str]:
    """Read an MB/NC cell → (body code or None, original reference or "").

    ``aliases`` maps codes and acronyms to codes (case-insensitive), e.g. ``{"DIN": "DE"}``.
    Only the first non-empty paragraph counts (``"CN-001\\n-002"`` → ``("CN", "CN-001")``).
    ``"DE"``/``"DIN"`` → (``"DE"``, ``""``); ``"AFNOR-003"`` → (``"FR"``, ``"AFNOR-003"``);
    ``"DK2-005"`` → ``"DK"`` (a second file's number); ``"**-001"`` → ``"**"``; ``"ZA-001-030"``
    → (``"ZA"``, ``"ZA-001-030"``); ``"-009"`` → (None, ``"-009"``); placeholders (``"XXX"``,
    ``"?"``) → (None, ""). The collation tool's spaced forms resolve too and are kept as written:
    ``"GB 003"`` → ``"GB"``, ``"**  073"`` → ``"**"``, ``"JP01 023"`` → ``"JP"``.
    A two-letter prefix not in ``aliases`` is taken as an ISO 3166 code;
    any other unknown prefix is a liaison's name and is returned as written (``"JRC (EC)"``,
    ``"TMG"``, ``"IOGP"``). ``"DE (DIN)"`` and ``"DE/DIN"`` resolve when the code or every part is
    an alias. Unicode dashes count as hyphens; the reference is returned with ASCII hyphens and no
    spaces around them.
    """
    return _parse_mb(mb, _alias_map(aliases))


_TYPE_WORDS = {
    "ge": "ge",
    "gen": "ge",
    "general": "ge",
    "te": "te",
    "tech": "te",
    "technical": "te",
    "ed": "ed",
    "edit": "ed",
    "editorial": "ed",
}
_TYPE_SPLIT = re.compile(r"\s*(?:[/,;&+|]|\band\b|\s)\s*")


def parse_type(raw: str) -> tuple[str | None, str]:
    """Read a "Type of comment" cell → (``"ge"|"te"|"ed"``, ``""`` when empty, None when unknown;
    type as written).

    Case and a trailing full stop do not matter (``TE``, ``Te``, ``Ed.``); the words general,
    technical, editorial are understood (also "te (technical)", "General comment"); a combination
    (``Ed/te``, ``Te/ed``, ``ge/te``) is classed by its first part; every part must be known.
    The second value keeps the cell as written unless it was plainly ge, te or ed (in any case,
    with or without a full stop), in which case it is ``""``.
    """
    written = " ".join(raw.split())
    if not written:
        return "", ""
    parts = [p.strip(" .:-()") for p in _TYPE_SPLIT.split(written.lower())]
    parts = [p for p in parts if p and p not in ("comment", "comments")]
    codes = [_TYPE_WORDS.get(p) for p in parts]
    if not codes or any(c is None for c in codes):
        return None, written
    plain = len(parts) == 1 and parts[0] in ("ge", "te", "ed")
    return codes[0], "" if plain else written


_DISPOSITIONS: tuple[tuple[str, str], ...] = (
    (
        r"accept(?:ed)?\s+in\s+principle|agreed\s+in\s+principle|accepted\s+in\s+principal"
        r"|accept(?:ed)?\s+with\s+(?:modifications?|changes?|amendments?)",
        "accepted_in_principle",
    ),
    (
        r"partial(?:ly)?\s+accept(?:ed)?|partly\s+accept(?:ed)?|accept(?:ed)?\s+(?:partially|in\s+part)",
        "partially_accepted",
    ),
    (r"not\s+accept(?:ed)?|reject(?:ed)?|not\s+agreed|declined|refused", "rejected"),
    (r"withdrawn|comment\s+withdrawn", "withdrawn"),
    (r"noted|acknowledged", "noted"),
    (r"accept(?:ed)?|agreed|fixed|done|implemented", "accepted"),
)
_DISPOSITION_RES = tuple(
    (
        re.compile(
            r"^(?:(?:decision|disposition|status|resolution)\s*[:\-–—]\s*)?(?:" + pattern + r")(?![\w])(?P<rest>.*)$",
            re.I | re.S,
        ),
        value,
    )
    for pattern, value in _DISPOSITIONS
)


def parse_observation(text: str) -> tuple[str | None, str]:
    """Read an "Observations of the secretariat" cell → (disposition or None, rationale).

    The first non-empty paragraph is read as the decision: "Accepted", "Accepted in principle"
    (also "accepted with modifications"), "Partially accepted", "Noted", "Not accepted" or
    "Rejected" (→ ``rejected``), "Withdrawn", "Fixed"/"Done"/"Agreed" (→ ``accepted``), in any
    case, with trailing punctuation, possibly followed on the same line by text ("Rejected.  The
    intent …"). The rationale is that trailing text plus the following paragraphs. When the first
    paragraph is not a decision, the result is (None, the whole text).
    """
    lines = text.strip().split("\n")
    first = lines[0].strip() if lines else ""
    if not first:
        return None, ""
    for regex, value in _DISPOSITION_RES:
        m = regex.match(first)
        if m is None:
            continue
        rest = m["rest"].strip()
        rest = re.sub(r"^[\s.,:;!\-–—]+", "", rest).strip()
        remaining = "\n".join(lines[1:]).strip()
        rationale = "\n".join(part for part in (rest, remaining) if part)
        return value, rationale
    return None, text.strip()
