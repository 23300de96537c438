"""Safe opening of untrusted Word uploads.

``open_docx(data)`` is the only door through which uploaded bytes reach python-docx. It decides
what the file is from its content (never from its name: a .docx saved under a .doc name is
fine), refuses everything that is not a plain WordprocessingML document, and checks the zip
directory *before* python-docx inflates anything:

* at most ``MAX_UPLOAD_BYTES`` on the wire; within ``UploadLimits`` (the operator's settings
  ``upload_max_parts``, ``upload_max_inflated_bytes`` and ``upload_max_part_bytes``): so many
  entries, so many declared uncompressed bytes in all and in any one entry, refused with
  ``UploadTooLarge`` (413) naming the limit; and no entry over ``RATIO_CHECK_ABOVE`` bytes
  inflating more than ``MAX_RATIO`` times. CPython's ``zipfile`` stops inflating at an entry's
  *declared* size (and then fails the CRC check), so checking the declared sizes bounds what
  python-docx can inflate, and python-docx holds every part in memory: the limits bound the
  memory an upload takes;
* entry names without ``..`` segments, absolute paths, drive letters, NUL or duplicates;
* ``[Content_Types].xml`` and ``_rels/.rels`` present, the main part declared as
  ``wordprocessingml.document.main+xml``; macro-enabled files (``.docm``: a macroEnabled content
  type or a ``vbaProject.bin``) are refused;
* no ``<!DOCTYPE`` or ``<!ENTITY`` in any XML part (Word never writes one; they carry XXE and
  "billion laughs" attacks). python-docx 1.2.0 already parses with ``resolve_entities=False``
  and without ``huge_tree``; this check keeps us safe should that ever change.

Every refusal is an ``UploadRejected`` whose message is a sentence for the person who uploaded
the file. Any failure inside python-docx becomes "This Word file is damaged or not a Word
document.", so callers only ever see ``UploadRejected``.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

import docx
from lxml import etree  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument

__all__ = [
    "MAX_ENTRIES",
    "MAX_MAIN_PART_BYTES",
    "MAX_RATIO",
    "MAX_TOTAL_UNCOMPRESSED",
    "MAX_UPLOAD_BYTES",
    "RATIO_CHECK_ABOVE",
    "UploadLimits",
    "UploadRejected",
    "UploadTooLarge",
    "convertible_format",
    "open_docx",
]


class UploadRejected(Exception):
    """Not an acceptable Word file; ``str(exc)`` is a sentence for the user."""


class UploadTooLarge(UploadRejected):
    """Over one of the ``UploadLimits``; ``limit`` names it (the setting's name)."""

    def __init__(self, message: str, limit: str, value: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.value = value


MAX_UPLOAD_BYTES = 20_000_000
MAX_ENTRIES = 1_000
MAX_TOTAL_UNCOMPRESSED = 64_000_000
MAX_MAIN_PART_BYTES = 40_000_000


@dataclass(frozen=True)
class UploadLimits:
    """What an upload may inflate to, read from its zip directory before anything is inflated."""

    max_parts: int = MAX_ENTRIES
    max_inflated_bytes: int = MAX_TOTAL_UNCOMPRESSED
    max_part_bytes: int = MAX_MAIN_PART_BYTES


MAX_RATIO = 200
RATIO_CHECK_ABOVE = 1_000_000

DAMAGED = "This Word file is damaged or not a Word document."
OLD_DOC = (
    "This is an old binary Word .doc file; save it as .docx (Word: File › Save As › Word Document) and upload that."
)
ENCRYPTED = (
    "This Word file is protected with a password; remove the password (Word: File › Info › "
    "Protect Document › Encrypt with Password, clear it), save it and upload it again."
)
PDF = "This is a PDF, not a Word .docx file; upload the filled commenting template as .docx."
RTF = (
    "This is an RTF file, not a Word .docx file; save it as .docx (Word: File › Save As › "
    "Word Document) and upload that."
)
HTML = "This is a web page or XML file, not a Word .docx file; upload the filled template as .docx."
NOT_DOCX = "This is not a Word .docx file; upload the filled commenting template as .docx."
EMPTY = "The file is empty."
DAMAGED_WORKBOOK = "This Excel file is damaged or not an .xlsx workbook (a macro-enabled .xlsm is refused too)."
MACROS = "This is a macro-enabled Word file (.docm); save it as a plain Word Document (.docx) and upload that."
TEMPLATE = (
    "This is a Word template (.dotx/.dotm), not a document; open it, save it as a Word Document "
    "(.docx) and upload that."
)
DOCTYPE = (
    "This Word file contains XML document type declarations, which Word never writes; "
    "it was refused for safety. Save it again from Word as .docx and upload that."
)

WML_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_OFFICE_DOCUMENT_REL = "/officeDocument"
_CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")

# "<!DOCTYPE" / "<!ENTITY" in every encoding libxml2 would detect for an XML part.
_NEEDLES: tuple[bytes, ...] = tuple(
    word.encode(encoding)
    for word in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)
_NEEDLE_OVERLAP = max(len(n) for n in _NEEDLES)
_SCAN_CHUNK = 1 << 20
_DRIVE = re.compile(r"^[A-Za-z]:")

# A parser for the two package parts we read ourselves; both are checked for DOCTYPE first.
_SAFE_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_blank_text=True
)


_WORD_STREAM = "WordDocument".encode("utf-16-le")
_ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"


def convertible_format(data: bytes) -> str:
    """ ".doc" for a binary Word 97-2003 file, ".odt" for OpenDocument text, "" otherwise: the two
    formats LibreOffice turns into .docx for us. Told from the content, never from the name."""
    if data.startswith(_OLE2_MAGIC):
        encrypted = _ENCRYPTED_PACKAGE in data[:65536] or _ENCRYPTED_PACKAGE in data[-65536:]
        return ".doc" if _WORD_STREAM in data and not encrypted else ""
    # An ODF package starts with its uncompressed `mimetype` entry (ODF 1.2, part 3, 3.3).
    if data.startswith(_ZIP_MAGIC) and data[30:38] == b"mimetype" and _ODT_MIMETYPE in data[38:120]:
        return ".odt"
    return ""


def open_docx(data: bytes, limits: UploadLimits | None = None) -> DocxDocument:
    """Check ``data`` and open it with python-docx, or raise ``UploadRejected``."""
    data = bytes(data)
    _check_package(data, limits or UploadLimits())
    try:
        return docx.Document(io.BytesIO(data))
    except Exception as exc:  # anything python-docx or lxml raises means: not a usable file
        raise UploadRejected(DAMAGED) from exc


SML_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


def upload_kind(data: bytes) -> str:
    """ "docx", "xlsx" or "csv": what an upload of comments is, from its bytes (not its name).
    A zip package is a Word file unless it holds a workbook; anything the .docx checks would
    call another format (PDF, RTF, HTML, .doc) stays refused; other text is read as CSV."""
    data = bytes(data)
    if data.startswith(_ZIP_MAGIC):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = {name.lower() for name in zf.namelist()[: MAX_ENTRIES + 1]}
        except Exception:
            return "docx"  # the .docx checks name the damage
        return "xlsx" if "xl/workbook.xml" in names else "docx"
    try:
        _sniff(data)
    except UploadRejected as exc:
        if exc.args and exc.args[0] == NOT_DOCX and data:
            return "csv"
        raise
    return "docx"


def check_workbook(data: bytes, limits: UploadLimits | None = None) -> None:
    """The .docx checks (size, zip directory, bombs, DOCTYPE) for an .xlsx workbook."""
    _check_package(data, limits or UploadLimits(), SML_MAIN)


def _check_package(data: bytes, limits: UploadLimits, main_type: str = WML_MAIN) -> None:
    if not data:
        raise UploadRejected(EMPTY)
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadRejected(
            f"The file is {len(data) / 1_000_000:.1f} MB; the limit is {MAX_UPLOAD_BYTES // 1_000_000} MB."
        )
    _sniff(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            _check_zip(zf, limits, main_type)
    except UploadRejected:
        raise
    except Exception as exc:  # BadZipFile, bad headers, unsupported compression, lxml errors …
        raise UploadRejected(DAMAGED) from exc


def _sniff(data: bytes) -> None:
    """Refuse what the first bytes show is not a zip package."""
    if data.startswith(_OLE2_MAGIC):
        # An encrypted .docx is an OLE2 container too; its directory names an EncryptedPackage.
        if _ENCRYPTED_PACKAGE in data[:65536] or _ENCRYPTED_PACKAGE in data[-65536:]:
            raise UploadRejected(ENCRYPTED)
        raise UploadRejected(OLD_DOC)
    if data.startswith(_ZIP_MAGIC):
        return
    head = data[:1024]
    if b"%PDF-" in head:
        raise UploadRejected(PDF)
    stripped = head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")
    if stripped.startswith(b"{\\rtf"):
        raise UploadRejected(RTF)
    if stripped.startswith(b"<") or stripped[:40].lower().startswith(b"mime-version"):
        raise UploadRejected(HTML)
    raise UploadRejected(NOT_DOCX)


def _mb(size: int) -> str:
    return f"{size / 1_000_000:,.0f} MB" if size >= 10_000_000 else f"{size / 1_000_000:,.1f} MB"


def _check_zip(zf: zipfile.ZipFile, limits: UploadLimits, main_type: str = WML_MAIN) -> None:
    infos = zf.infolist()
    if len(infos) > limits.max_parts:
        raise UploadTooLarge(
            f"This file holds {len(infos):,} parts; a Word document has a few dozen "
            f"(the limit, upload_max_parts, is {limits.max_parts:,}). Upload the commenting template as a plain .docx.",
            "upload_max_parts",
            limits.max_parts,
        )
    names: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        name = info.filename
        _check_name(name)
        if name in names:
            raise UploadRejected(DAMAGED)
        names[name] = info
        if info.flag_bits & 0x1:
            raise UploadRejected(ENCRYPTED)
        total += info.file_size
        if info.file_size > RATIO_CHECK_ABOVE and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise UploadRejected(
                "This file contains a part that inflates more than 200 times its stored size "
                "(a 'zip bomb'); it was refused for safety."
            )
        if info.file_size > limits.max_part_bytes:
            raise UploadTooLarge(
                f"A part of this file ({name}) would take {_mb(info.file_size)} once unpacked; the limit, "
                f"upload_max_part_bytes, is {_mb(limits.max_part_bytes)}.",
                "upload_max_part_bytes",
                limits.max_part_bytes,
            )
    if total > limits.max_inflated_bytes:
        raise UploadTooLarge(
            f"This file would take {_mb(total)} once unpacked; the limit, upload_max_inflated_bytes, "
            f"is {_mb(limits.max_inflated_bytes)}.",
            "upload_max_inflated_bytes",
            limits.max_inflated_bytes,
        )
    lower = {name.lower(): name for name in names}
    if any(name.rsplit("/", 1)[-1] == "vbaproject.bin" for name in lower):
        raise UploadRejected(MACROS)
    if "[content_types].xml" not in lower or "_rels/.rels" not in lower:
        raise UploadRejected(_what_zip_is_this(zf, lower) if main_type == WML_MAIN else DAMAGED_WORKBOOK)

    content_types_xml = _read_checked(zf, names[lower["[content_types].xml"]])
    rels_xml = _read_checked(zf, names[lower["_rels/.rels"]])
    defaults, overrides = _content_types(content_types_xml)
    if any(
        "macroenabled" in ct.lower() or "vbaproject" in ct.lower() for ct in (*defaults.values(), *overrides.values())
    ):
        raise UploadRejected(MACROS)

    main = _main_part_name(rels_xml)
    if main is None:
        raise UploadRejected(NOT_DOCX)
    main_ct = _content_type_of(main, defaults, overrides)
    if main_type != WML_MAIN and main_ct != main_type:
        raise UploadRejected(DAMAGED_WORKBOOK)
    if main_ct != main_type:
        if "template" in main_ct.lower():
            raise UploadRejected(TEMPLATE)
        if "spreadsheetml" in main_ct.lower():
            raise UploadRejected("This is an Excel workbook, not a Word .docx file.")
        if "presentationml" in main_ct.lower():
            raise UploadRejected("This is a PowerPoint presentation, not a Word .docx file.")
        raise UploadRejected(NOT_DOCX)
    main_info = names.get(main) or names.get(lower.get(main.lower(), ""))
    if main_info is None:
        raise UploadRejected(DAMAGED)

    # Every part python-docx could parse as XML: *.xml, *.rels and parts with an XML content type
    # (SVG images are not parsed by python-docx and may legitimately carry a DOCTYPE).
    for name, info in names.items():
        if name.endswith("/") or name in (
            names[lower["[content_types].xml"]].filename,
            names[lower["_rels/.rels"]].filename,
        ):
            continue
        ct = _content_type_of(name, defaults, overrides).lower()
        if ct.startswith("image/"):
            continue
        if name.lower().endswith((".xml", ".rels")) or ct.endswith("xml"):
            _scan_for_doctype(zf, info)


def _check_name(name: str) -> None:
    if (
        not name
        or "\x00" in name
        or name.startswith(("/", "\\"))
        or _DRIVE.match(name)
        or ".." in re.split(r"[/\\]", name)
    ):
        raise UploadRejected(
            "This file contains a part with an unsafe name (an absolute path or '..'); it was refused."
        )


def _what_zip_is_this(zf: zipfile.ZipFile, lower: dict[str, str]) -> str:
    if "mimetype" in lower:
        try:
            mimetype = zf.read(lower["mimetype"])[:100]
        except Exception:
            mimetype = b""
        if b"opendocument.text" in mimetype:
            return (
                "This is an OpenDocument text file (.odt), not a Word .docx file; save it as Word "
                "(.docx) and upload that."
            )
    if "xl/workbook.xml" in lower:
        return "This is an Excel workbook, not a Word .docx file."
    if "ppt/presentation.xml" in lower:
        return "This is a PowerPoint presentation, not a Word .docx file."
    return "This is a zip archive, not a Word .docx file; upload the filled commenting template as .docx."


def _read_checked(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    data = zf.read(info)
    if any(needle in data for needle in _NEEDLES):
        raise UploadRejected(DOCTYPE)
    return data


def _scan_for_doctype(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Stream one entry and refuse it if it declares a DOCTYPE or ENTITY (bounded memory)."""
    tail = b""
    with zf.open(info) as stream:
        while True:
            chunk = stream.read(_SCAN_CHUNK)
            if not chunk:
                return
            window = tail + chunk
            if any(needle in window for needle in _NEEDLES):
                raise UploadRejected(DOCTYPE)
            tail = window[-_NEEDLE_OVERLAP:]


def _content_types(xml: bytes) -> tuple[dict[str, str], dict[str, str]]:
    root = etree.fromstring(xml, _SAFE_PARSER)
    defaults: dict[str, str] = {}
    overrides: dict[str, str] = {}
    for el in root:
        if el.tag == _CT_NS + "Default":
            defaults[(el.get("Extension") or "").lower()] = el.get("ContentType") or ""
        elif el.tag == _CT_NS + "Override":
            overrides[(el.get("PartName") or "").lstrip("/").lower()] = el.get("ContentType") or ""
    return defaults, overrides


def _content_type_of(name: str, defaults: dict[str, str], overrides: dict[str, str]) -> str:
    found = overrides.get(name.lstrip("/").lower())
    if found is not None:
        return found
    ext = name.rsplit(".", 1)[-1].lower() if "." in name.rsplit("/", 1)[-1] else ""
    return defaults.get(ext, "")


def _main_part_name(rels_xml: bytes) -> str | None:
    root = etree.fromstring(rels_xml, _SAFE_PARSER)
    for el in root:
        if el.tag != _REL_NS + "Relationship":
            continue
        if (el.get("Type") or "").endswith(_OFFICE_DOCUMENT_REL) and el.get("TargetMode") != "External":
            target = (el.get("Target") or "").replace("\\", "/")
            name = posixpath.normpath(posixpath.join("/", target)).lstrip("/")
            return name or None
    return None
