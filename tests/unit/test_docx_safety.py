"""Opening untrusted uploads (services/documents/safety.py).

Every hostile or broken input must end in ``UploadRejected`` (with a sentence for the user) or in
a clean parse: never another exception type, never python-docx touching an unchecked zip.
"""

from __future__ import annotations

import contextlib
import io
import random
import struct
import time
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from services.documents import safety
from services.documents.reader import parse_compiled_table, parse_national_comments, read_rows
from services.documents.safety import MAX_UPLOAD_BYTES, UploadLimits, UploadRejected, UploadTooLarge, open_docx
from services.platform.settings import Settings
from tests import SHARED
from tests.docx_factory import comment_docx, read_part, rezip, row8

ALIASES = {"DE": "DE", "DIN": "DE"}
DOC = "word/document.xml"
CT = "[Content_Types].xml"
MAIN_CT = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
REAL = SHARED / "reference" / "real"


@pytest.fixture(scope="module")
def good() -> bytes:
    return comment_docx([row8("DE-001", "17", "3.1", "", "te", "Comment", "Change")])


def with_document_xml(good: bytes, edit: Callable[[bytes], bytes]) -> bytes:
    return rezip(good, replace={DOC: edit(read_part(good, DOC))})


def after_declaration(xml: bytes, insert: bytes) -> bytes:
    end = xml.index(b"?>") + 2
    return xml[:end] + insert + xml[end:]


def in_first_text(xml: bytes, text: bytes) -> bytes:
    return xml.replace(b'<w:t xml:space="preserve">Comment</w:t>', b"<w:t>" + text + b"</w:t>", 1)


def rejected(data: bytes) -> str:
    with pytest.raises(UploadRejected) as info:
        open_docx(data)
    message = str(info.value)
    assert message and message[0].isupper() and message.endswith(".")
    return message


def rejected_or_clean(data: bytes) -> None:
    """The promise for every hostile input, through every public entry point."""
    for parse in (
        lambda: read_rows(open_docx(data)),
        lambda: parse_national_comments(data, "DE", ALIASES),
        lambda: parse_compiled_table(data, ALIASES),
    ):
        with contextlib.suppress(UploadRejected):
            parse()


# ---------------------------------------------------------------------------------------------
# Accepted
# ---------------------------------------------------------------------------------------------


def test_a_plain_docx_opens(good: bytes) -> None:
    document = open_docx(good)
    assert len(document.tables) == 1


def test_a_docx_under_a_doc_name_is_accepted(good: bytes, tmp_path: Path) -> None:
    path = tmp_path / "comments.doc"
    path.write_bytes(good)
    assert open_docx(path.read_bytes()) is not None


@pytest.mark.skipif(not REAL.is_dir(), reason="real committee files not available")
def test_the_real_collation_output_saved_as_doc_is_accepted() -> None:
    data = (REAL / "TC211_DIS19156ed2_collated-comments_ISO-original_om-swg.doc").read_bytes()
    assert len(open_docx(data).tables) == 1


@pytest.mark.skipif(not REAL.is_dir(), reason="real committee files not available")
def test_every_real_file_passes_the_checks() -> None:
    for path in REAL.iterdir():
        if path.suffix in (".doc", ".docx"):
            open_docx(path.read_bytes())


def test_bytearray_and_memoryview_are_accepted(good: bytes) -> None:
    open_docx(bytearray(good))  # type: ignore[arg-type]
    open_docx(memoryview(good))  # type: ignore[arg-type]


def test_a_doctype_in_an_svg_image_is_not_our_business(good: bytes) -> None:
    svg = b'<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x.dtd"><svg/>'
    ct = read_part(good, CT).replace(b"</Types>", b'<Default Extension="svg" ContentType="image/svg+xml"/></Types>')
    open_docx(rezip(good, replace={CT: ct}, add={"word/media/image1.svg": svg}))


# ---------------------------------------------------------------------------------------------
# Not a .docx at all
# ---------------------------------------------------------------------------------------------


def test_old_binary_doc() -> None:
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096)
    assert rejected(ole2) == (
        "This is an old binary Word .doc file; save it as .docx (Word: File › Save As › Word Document) and upload that."
    )


def test_password_protected_docx() -> None:
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1024) + "EncryptedPackage".encode("utf-16-le") + bytes(64)
    assert "password" in rejected(ole2)


def test_pdf_renamed_docx() -> None:
    assert "PDF" in rejected(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")


@pytest.mark.parametrize(
    "data",
    [
        b"{\\rtf1\\ansi\\deff0 {\\fonttbl}}",
        b"<html><body><table></table></body></html>",
        b'<?xml version="1.0"?><w:wordDocument/>',
        b"MIME-Version: 1.0\r\nContent-Type: multipart/related",
        b"Just some text pasted into a file.",
    ],
)
def test_other_formats(data: bytes) -> None:
    assert "not a Word .docx file" in rejected(data)


def test_random_bytes() -> None:
    rng = random.Random(20240501)
    for _ in range(20):
        data = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 5000)))
        rejected(data)
    rejected(b"PK\x03\x04" + bytes(rng.getrandbits(8) for _ in range(5000)))  # a zip header, then garbage


def test_truncated_docx(good: bytes) -> None:
    assert rejected(good[: len(good) // 2]) == "This Word file is damaged or not a Word document."


def test_empty_file() -> None:
    assert rejected(b"") == "The file is empty."


def test_file_over_the_size_limit() -> None:
    data = b"PK\x03\x04" + bytes(21_000_000)
    assert len(data) > MAX_UPLOAD_BYTES
    started = time.perf_counter()
    message = rejected(data)
    assert "limit is 20 MB" in message
    assert time.perf_counter() - started < 0.5


def test_other_zip_packages(good: bytes) -> None:
    def zipped(entries: dict[str, bytes]) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as zf:
            for name, content in entries.items():
                zf.writestr(name, content)
        return out.getvalue()

    assert "zip archive" in rejected(zipped({"readme.txt": b"hello"}))
    assert "Excel" in rejected(zipped({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}))
    assert ".odt" in rejected(zipped({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<a/>"}))
    assert "damaged" in rejected(rezip(good, replace={DOC: None}))


# ---------------------------------------------------------------------------------------------
# Macros and templates
# ---------------------------------------------------------------------------------------------


def test_docm_by_content_type(good: bytes) -> None:
    ct = read_part(good, CT).replace(MAIN_CT, b"application/vnd.ms-word.document.macroEnabled.main+xml")
    assert ".docm" in rejected(rezip(good, replace={CT: ct}))


def test_docm_by_vba_project(good: bytes) -> None:
    assert ".docm" in rejected(rezip(good, add={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0" + bytes(100)}))


def test_docm_by_vba_content_type_only(good: bytes) -> None:
    ct = read_part(good, CT).replace(
        b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>'
    )
    assert ".docm" in rejected(rezip(good, replace={CT: ct}))


def test_word_template(good: bytes) -> None:
    ct = read_part(good, CT).replace(
        MAIN_CT, b"application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"
    )
    assert "template" in rejected(rezip(good, replace={CT: ct}))


# ---------------------------------------------------------------------------------------------
# Zip bombs and odd zips
# ---------------------------------------------------------------------------------------------


def test_zip_bomb_entry_of_100_mb_of_zeros(good: bytes) -> None:
    out = io.BytesIO(good)
    out.seek(0, io.SEEK_END)
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as zf, zf.open("word/media/zeros.bin", "w") as entry:
        chunk = bytes(1 << 20)
        for _ in range(100):
            entry.write(chunk)
    data = out.getvalue()
    assert len(data) < 1_000_000
    started = time.perf_counter()
    assert "zip bomb" in rejected(data)
    assert time.perf_counter() - started < 0.5  # refused from the directory, nothing inflated


def too_large(data: bytes, limits: UploadLimits | None = None) -> UploadTooLarge:
    with pytest.raises(UploadTooLarge) as info:
        open_docx(data, limits)
    return info.value


def test_too_many_entries(good: bytes) -> None:
    data = rezip(good, add={f"word/media/x{i}.txt": b"x" for i in range(1_001)})
    refused = too_large(data)
    assert refused.limit == "upload_max_parts" and "1,000" in str(refused)
    assert too_large(good, UploadLimits(max_parts=3)).limit == "upload_max_parts"


def test_declared_total_over_the_limit(good: bytes) -> None:
    # 65 entries of 1,000,000 zeros each: none is "over 1 MB", so only the total catches them.
    zeros = bytes(1_000_000)
    data = rezip(good, add={f"word/media/z{i}.bin": zeros for i in range(65)})
    assert len(data) < MAX_UPLOAD_BYTES
    refused = too_large(data)
    assert refused.limit == "upload_max_inflated_bytes" and "limit, upload_max_inflated_bytes, is 64 MB" in str(refused)


def _forge_declared_size(data: bytes, name: str, size: int) -> bytes:
    """Patch the uncompressed size the central directory (and local header) declare for ``name``."""
    buf = bytearray(data)
    encoded = name.encode()
    pos = buf.find(b"PK\x01\x02")
    while pos != -1:
        name_len = struct.unpack_from("<H", buf, pos + 28)[0]
        if bytes(buf[pos + 46 : pos + 46 + name_len]) == encoded:
            struct.pack_into("<I", buf, pos + 24, size)
            local = struct.unpack_from("<I", buf, pos + 42)[0]
            struct.pack_into("<I", buf, local + 22, size)
            return bytes(buf)
        pos = buf.find(b"PK\x01\x02", pos + 4)
    raise AssertionError(f"{name} not found")


def test_main_document_part_over_the_part_limit(good: bytes) -> None:
    # 800 kB of poorly compressible text keeps the ratio under 200 even at a declared 61 MB.
    rng = random.Random(7)
    noise = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(800_000)).encode()
    data = with_document_xml(good, lambda xml: xml.replace(b"</w:body>", b"<!--" + noise + b"--></w:body>"))
    data = _forge_declared_size(data, DOC, 41_000_000)
    refused = too_large(data)
    assert refused.limit == "upload_max_part_bytes" and "is 40 MB" in str(refused)


def test_declared_size_smaller_than_the_content_is_damaged(good: bytes) -> None:
    # zipfile stops inflating at the declared size: lying low can only break the file.
    assert rejected(_forge_declared_size(good, DOC, 100)) == "This Word file is damaged or not a Word document."


@pytest.mark.parametrize("name", ["../evil.xml", "/etc/evil.xml", "word/../../evil.xml", "C:/evil.xml"])
def test_unsafe_entry_names(good: bytes, name: str) -> None:
    assert "unsafe name" in rejected(rezip(good, add={name: b"<a/>"}))


def test_duplicate_entry_names(good: bytes) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate while writing
        data = rezip(good, add={DOC: read_part(good, DOC)})
    assert rejected(data) == "This Word file is damaged or not a Word document."


# ---------------------------------------------------------------------------------------------
# Hostile XML
# ---------------------------------------------------------------------------------------------

XXE = b'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
LAUGHS = (
    b'<!DOCTYPE w:document [<!ENTITY lol "lol">'
    + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10))
    + b"]>"
)


def test_xxe_in_document_xml(good: bytes) -> None:
    data = with_document_xml(good, lambda xml: in_first_text(after_declaration(xml, XXE), b"&xxe;"))
    assert "document type declarations" in rejected(data)
    rejected_or_clean(data)


def test_billion_laughs_in_document_xml(good: bytes) -> None:
    data = with_document_xml(good, lambda xml: in_first_text(after_declaration(xml, LAUGHS), b"&lol9;"))
    started = time.perf_counter()
    assert "document type declarations" in rejected(data)
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize("part", ["word/styles.xml", "word/_rels/document.xml.rels", CT, "_rels/.rels"])
def test_doctype_in_any_xml_part(good: bytes, part: str) -> None:
    xml = read_part(good, part)
    assert "document type declarations" in rejected(rezip(good, replace={part: after_declaration(xml, XXE)}))


def test_doctype_in_a_utf16_part(good: bytes) -> None:
    xml = read_part(good, "word/styles.xml").decode("utf-8")
    xml = xml.replace('encoding="UTF-8"', 'encoding="UTF-16"', 1)
    end = xml.index("?>") + 2
    utf16 = (xml[:end] + XXE.decode() + xml[end:]).encode("utf-16")
    assert "document type declarations" in rejected(rezip(good, replace={"word/styles.xml": utf16}))


def test_deeply_nested_xml(good: bytes) -> None:
    nested = b"<w:p>" * 10_000 + b"</w:p>" * 10_000
    data = with_document_xml(good, lambda xml: xml.replace(b"<w:body>", b"<w:body>" + nested, 1))
    rejected_or_clean(data)
    assert rejected(data) == "This Word file is damaged or not a Word document."


def test_nesting_just_under_the_parser_limit_parses_cleanly(good: bytes) -> None:
    # 200 levels of runs-in-hyperlinks inside a comment cell: legal XML, absurd Word.
    deep = b'<w:hyperlink w:anchor="a">' * 200 + b"<w:r><w:t>deep</w:t></w:r>" + b"</w:hyperlink>" * 200
    data = with_document_xml(good, lambda xml: xml.replace(b"<w:t xml:space=\"preserve\">Comment</w:t></w:r>",
                                                           b"<w:t>Comment</w:t></w:r>" + deep, 1))  # fmt: skip
    rows, problems = parse_national_comments(data, "DE", ALIASES)
    assert problems == []
    assert rows[0].comment == "Commentdeep"


def test_invalid_utf8_in_document_xml(good: bytes) -> None:
    data = with_document_xml(good, lambda xml: in_first_text(xml, b"caf\xc3\x28 \xff\xfe"))
    rejected_or_clean(data)
    rejected(data)


@pytest.mark.parametrize("text", [b"\x01\x02", b"&#x1;", b"&#0;", b"\x0b", b"&#xFFFE;"])
def test_control_characters_in_text(good: bytes, text: bytes) -> None:
    data = with_document_xml(good, lambda xml: in_first_text(xml, b"bad " + text + b" text"))
    rejected_or_clean(data)


def test_allowed_odd_characters_in_text_parse_cleanly(good: bytes) -> None:
    data = with_document_xml(good, lambda xml: in_first_text(xml, "tab\tnel\u0085 emoji \U0001f600".encode()))
    rows, problems = parse_national_comments(data, "DE", ALIASES)
    assert problems == []
    assert rows[0].comment == "tab\tnel\u0085 emoji \U0001f600"


def test_broken_content_types_and_relationships(good: bytes) -> None:
    assert rejected(rezip(good, replace={CT: b"<Types"})) == "This Word file is damaged or not a Word document."
    assert "not a Word .docx" in rejected(rezip(good, replace={"_rels/.rels": b"<Relationships/>"}))


def test_main_part_missing_from_the_zip(good: bytes) -> None:
    assert "damaged" in rejected(rezip(good, replace={DOC: None}))


def test_constants_are_as_documented() -> None:
    assert (safety.MAX_UPLOAD_BYTES, safety.MAX_ENTRIES, safety.MAX_TOTAL_UNCOMPRESSED) == (
        20_000_000,
        1_000,
        64_000_000,
    )
    assert (safety.MAX_MAIN_PART_BYTES, safety.MAX_RATIO, safety.RATIO_CHECK_ABOVE) == (40_000_000, 200, 1_000_000)
    defaults = Settings()
    assert UploadLimits() == UploadLimits(
        defaults.upload_max_parts, defaults.upload_max_inflated_bytes, defaults.upload_max_part_bytes
    )
