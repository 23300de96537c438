"""Page furniture both generated documents share: "page X of Y" fields, one font family, python-docx's
template extras dropped."""

from __future__ import annotations

from typing import Any

from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

__all__ = ["add_page_of_pages", "drop_template_extras", "use_one_font"]


def _field(paragraph: Any, instruction: str) -> None:
    """A complex field (``PAGE``, ``NUMPAGES``) with a placeholder result; Word fills it in on layout."""

    def fld_char(kind: str) -> None:
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        paragraph.add_run()._r.append(el)

    fld_char("begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    paragraph.add_run()._r.append(instr)
    fld_char("separate")
    paragraph.add_run("1")
    fld_char("end")


def add_page_of_pages(paragraph: Any) -> None:
    """Append "page X of Y" (PAGE and NUMPAGES fields) to a python-docx paragraph."""
    paragraph.add_run("page ")
    _field(paragraph, "PAGE")
    paragraph.add_run(" of ")
    _field(paragraph, "NUMPAGES")


def drop_template_extras(doc: Any) -> None:
    """Remove what python-docx's default template carries but our documents do not need: its
    thumbnail picture (a preview of the template, not of our document), the customXml item and
    the 440 kB stylesWithEffects copy of the styles."""
    pkg_rels = doc.part.package.rels
    for r_id, rel in list(pkg_rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            del pkg_rels[r_id]
    drop = {RT.CUSTOM_XML, "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects"}
    for r_id, rel in list(doc.part.rels.items()):
        if rel.reltype in drop:
            doc.part.drop_rel(r_id)


_FONT_SLOTS = ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs")
_THEME_SLOTS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")


def _set_rfonts(rpr: Any, family: str) -> None:
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    # A theme attribute wins over the named font beside it (ECMA-376 §17.3.2.26), which is how
    # python-docx's Title and Heading styles stayed in Calibri/Cambria with ``font.name`` set.
    for slot in _THEME_SLOTS:
        rfonts.attrib.pop(qn(slot), None)
    for slot in _FONT_SLOTS:
        rfonts.set(qn(slot), family)


def use_one_font(doc: Any, family: str = "Arial") -> None:
    """Every style and the document defaults in ``family``, for every script."""
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr_default = defaults.find(qn("w:rPrDefault"))
        if rpr_default is None:
            rpr_default = OxmlElement("w:rPrDefault")
            defaults.insert(0, rpr_default)
        rpr = rpr_default.find(qn("w:rPr"))
        if rpr is None:
            rpr = OxmlElement("w:rPr")
            rpr_default.append(rpr)
        _set_rfonts(rpr, family)
    # Every font named anywhere in the styles, table styles' conditional parts included.
    for rfonts in list(styles.iter(qn("w:rFonts"))):
        _set_rfonts(rfonts.getparent(), family)
