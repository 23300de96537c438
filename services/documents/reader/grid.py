"""The cell grid of a table: each cell's visible text, grid position, span and vertical merge."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from services.documents.reader.cells import _join_lines, _to_int
from services.documents.safety import DAMAGED, UploadRejected

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
W_BODY = _W + "body"
W_TBL = _W + "tbl"
W_TC = _W + "tc"
W_PSTYLE = _W + "pStyle"
W_VAL = _W + "val"
HEADER_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/header"


# One pass of XSLT (libxslt, in C) turns a table into text: python-docx's element proxies cost
# ~10 µs each from Python, which adds up to seconds at 5,000 rows × 8 cells; the stylesheet does
# the same walk in ~0.2 s. Output: for each row ROW gridBefore, for each cell CELL gridSpan FIELD
# vMerge ("", "r" restart, "c" continue), then PARA + text for each of the cell's own paragraphs
# (through content controls and custom XML). Visible run content only: w:t, w:tab → tab, w:br and
# w:cr → newline, w:noBreakHyphen → "-"; nothing under w:del, w:moveFrom, text boxes, ruby text,
# alternate-content fallbacks, nested tables or paragraph/run properties (tab stops), and no
# w:delText or w:instrText (field codes). The separators are private-use characters, removed from
# the text itself; numbers pass through number(), so attributes cannot inject them either.
_ROW, _CELL, _PARA, _FIELD = "\ue001", "\ue002", "\ue003", "\ue004"
_EXTRACT_XSL = b"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"
  xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">
<xsl:output method="text" encoding="UTF-8"/>
<xsl:template match="/">
  <xsl:apply-templates select="w:tbl/w:tr | w:tbl/w:sdt/w:sdtContent/w:tr | w:tbl/w:customXml/w:tr"/>
</xsl:template>
<xsl:template match="w:tr">
  <xsl:text>&#xE001;</xsl:text>
  <xsl:if test="w:trPr/w:gridBefore"><xsl:value-of select="number(w:trPr/w:gridBefore/@w:val)"/></xsl:if>
  <xsl:for-each select="w:tc | w:sdt/w:sdtContent/w:tc | w:customXml/w:tc">
    <xsl:text>&#xE002;</xsl:text>
    <xsl:if test="w:tcPr/w:gridSpan"><xsl:value-of select="number(w:tcPr/w:gridSpan/@w:val)"/></xsl:if>
    <xsl:text>&#xE004;</xsl:text>
    <xsl:if test="w:tcPr/w:vMerge">
      <xsl:choose>
        <xsl:when test="w:tcPr/w:vMerge/@w:val = 'restart'">r</xsl:when><xsl:otherwise>c</xsl:otherwise>
      </xsl:choose>
    </xsl:if>
    <xsl:for-each select="w:p | w:sdt/w:sdtContent/w:p | w:customXml/w:p | w:sdt/w:sdtContent/w:customXml/w:p">
      <xsl:text>&#xE003;</xsl:text><xsl:apply-templates mode="run"/>
    </xsl:for-each>
  </xsl:for-each>
</xsl:template>
<xsl:template mode="run" match="w:del | w:moveFrom | w:txbxContent | w:rt | mc:Fallback | w:p | w:tbl
    | w:pPr | w:rPr | w:sdtPr | w:instrText | w:delText | w:delInstrText"/>
<xsl:template mode="run" match="w:t">
  <xsl:value-of select="translate(., '&#xE001;&#xE002;&#xE003;&#xE004;', '')"/>
</xsl:template>
<xsl:template mode="run" match="w:tab"><xsl:text>&#9;</xsl:text></xsl:template>
<xsl:template mode="run" match="w:br | w:cr"><xsl:text>&#10;</xsl:text></xsl:template>
<xsl:template mode="run" match="w:noBreakHyphen"><xsl:text>-</xsl:text></xsl:template>
<xsl:template mode="run" match="*"><xsl:apply-templates mode="run"/></xsl:template>
<xsl:template mode="run" match="text()"/>
</xsl:stylesheet>"""
_THREAD = threading.local()


def _extractor() -> Any:
    """The compiled stylesheet, one per thread (workers may read files in parallel threads)."""
    xslt = getattr(_THREAD, "xslt", None)
    if xslt is None:
        xslt = etree.XSLT(
            etree.fromstring(_EXTRACT_XSL, etree.XMLParser(resolve_entities=False, no_network=True)),
            access_control=etree.XSLTAccessControl.DENY_ALL,
        )
        _THREAD.xslt = xslt
    return xslt


@dataclass(slots=True)
class _Cell:
    start: int  # first grid column
    span: int  # grid columns covered
    vmerge: int  # 0 none, 1 restart, 2 continuation of the cell above
    text: str


_VMERGE = {"": 0, "r": 1, "c": 2}


def _table_cells(tbl: Any) -> list[list[_Cell]]:
    """Every row of ``tbl`` as cells with their grid position and visible text."""
    try:
        extracted = str(_extractor()(tbl))
    except etree.Error as exc:  # libxslt limits (depth, size) on a hostile but well-formed file
        raise UploadRejected(DAMAGED) from exc
    rows: list[list[_Cell]] = []
    for chunk in extracted.split(_ROW)[1:]:
        parts = chunk.split(_CELL)
        col = _to_int(parts[0].strip(), 0, 0, 63)
        cells: list[_Cell] = []
        for part in parts[1:]:
            head, *paragraphs = part.split(_PARA)
            span_text, _, vmerge = head.partition(_FIELD)
            span = _to_int(span_text.strip(), 1, 1, 63)
            cells.append(_Cell(col, span, _VMERGE.get(vmerge.strip(), 0), _join_lines(paragraphs)))
            col += span
        rows.append(cells)
    return rows


def _has_iso_styles(tbl: Any) -> bool:
    for checked, style in enumerate(tbl.iter(W_PSTYLE)):
        if str(style.get(W_VAL) or "").upper().startswith("ISO"):
            return True
        if checked > 2_000:
            break
    return False


def _is_nested(tbl: Any) -> bool:
    anc = tbl.getparent()
    while anc is not None:
        if anc.tag == W_TC:
            return True
        if anc.tag == W_BODY:
            return False
        anc = anc.getparent()
    return False
