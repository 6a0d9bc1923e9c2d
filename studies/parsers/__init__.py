"""Pure parsers for reference-manager exports (RIS, BibTeX, CSV): bytes in, records and errors out.

Nothing here touches Django or the database; the importer decides what to do with the records
(DOI normalisation, duplicate detection) and shows the errors, which carry 1-based line numbers.
"""

import codecs
import csv
import re
from pathlib import PurePosixPath

from .base import (
    PUBLICATION_TYPES,
    ParsedRecord,
    ParseError,
    ParseResult,
    UnknownFormat,
    strip_controls,
)
from .bibtex import parse_bibtex
from .ris import parse_ris
from .tabular import _columns, _delimiter, parse_csv

__all__ = [
    "PUBLICATION_TYPES",
    "ParseError",
    "ParseResult",
    "ParsedRecord",
    "UnknownFormat",
    "decode",
    "detect_format",
    "parse",
    "parse_bibtex",
    "parse_csv",
    "parse_ris",
]

FORMATS = ("ris", "bibtex", "csv")
_EXTENSIONS = {
    ".ris": "ris",
    ".nbib": "ris",
    ".bib": "bibtex",
    ".bibtex": "bibtex",
    ".csv": "csv",
    ".tsv": "csv",
}
_FORMAT_ALIASES = {"bib": "bibtex", "tsv": "csv", "nbib": "ris", "medline": "ris"}
_PARSERS = {"ris": parse_ris, "bibtex": parse_bibtex, "csv": parse_csv}

_RIS_SHAPE = re.compile(r"^(?:TY {1,3}- ?\S|PMID- ?\d)", re.MULTILINE)
_RIS_TAG_LINE = re.compile(r"^[A-Z][A-Z0-9]  - ", re.MULTILINE)
_BIBTEX_SHAPE = re.compile(r"^\s*@\s*[A-Za-z]+\s*[{(]", re.MULTILINE)
_REFER_SHAPE = re.compile(r"^%0 \S", re.MULTILINE)
_UNSUPPORTED_MAGIC = {
    b"PK\x03\x04": "an Excel (.xlsx) or other zipped file",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) or Word file",
    b"%PDF": "a PDF",
}


def decode(data: bytes) -> str:
    """Text of an export: UTF-8 (BOM or not), UTF-16 with a BOM, else cp1252/Latin-1; LF ends."""
    if data.startswith(codecs.BOM_UTF8):
        text = data[3:].decode("utf-8", errors="replace")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # EndNote on Windows can write "Unicode" (UTF-16) exports.
        text = data.decode("utf-16", errors="replace")
    else:
        text = _decode_unmarked(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # A BOM can also sit mid-file when several exports were concatenated.
    return strip_controls(text.replace("\ufeff", ""))


def _decode_unmarked(data: bytes) -> str:
    half = len(data) // 2
    if half >= 2:
        odd_nuls, even_nuls = data[1::2].count(0), data[0::2].count(0)
        if odd_nuls > 0.4 * half and even_nuls < 0.1 * half:
            return data.decode("utf-16-le", errors="replace")
        if even_nuls > 0.4 * half and odd_nuls < 0.1 * half:
            return data.decode("utf-16-be", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; Latin-1 maps every byte.
        return data.decode("latin-1")


def detect_format(data: bytes, filename: str = "") -> str:
    """'ris', 'bibtex' or 'csv' from the file extension, else from the content."""
    return _detect(data, decode(data), _extension(filename))


def _extension(filename: str) -> str:
    return PurePosixPath((filename or "").replace("\\", "/")).suffix.lower()


def _detect(data: bytes, text: str, extension: str) -> str:
    if extension in _EXTENSIONS:
        return _EXTENSIONS[extension]
    sniffed = _sniff(text)
    if sniffed:
        return sniffed
    if extension == ".txt":
        # Ovid, EBSCO and ProQuest save RIS as .txt.
        return "ris"
    for magic, what in _UNSUPPORTED_MAGIC.items():
        if data.startswith(magic):
            raise UnknownFormat(
                f"The file looks like {what}; export the references as RIS, BibTeX or CSV."
            )
    if _REFER_SHAPE.search(text):
        raise UnknownFormat(
            "The file looks like an EndNote tagged (.enw) export; "
            "export the references as RIS instead."
        )
    if text.lstrip().startswith("<"):
        raise UnknownFormat("XML and HTML files are not supported; export RIS, BibTeX or CSV.")
    raise UnknownFormat(
        "Could not tell whether the file is RIS, BibTeX or CSV: no 'TY  - ' line, "
        "no '@article{' entry and no CSV header with a Title column was found."
    )


def _sniff(text: str) -> str | None:
    if _RIS_SHAPE.search(text):
        return "ris"
    header = next((line for line in text.split("\n") if line.strip()), "")
    if header.strip().startswith("sep="):
        header = next((line for line in text.split("\n")[1:] if line.strip()), "")
    try:
        cells = next(csv.reader([header], delimiter=_delimiter(header)), [])
    except csv.Error:
        cells = []
    if len(cells) > 1 and "title" in _columns(cells):
        return "csv"
    if _BIBTEX_SHAPE.search(text):
        return "bibtex"
    # RIS whose records lack TY lines still has its "XX  - value" tag lines.
    if len(_RIS_TAG_LINE.findall(text)) >= 2:
        return "ris"
    return None


def parse(data: bytes, *, format: str | None = None, filename: str = "") -> ParseResult:
    """Parse an export; raises UnknownFormat only when the format is neither given nor detectable."""
    text = decode(data)
    extension = _extension(filename)
    fmt = _known_format(format) if format else None
    if not text.strip():
        # Any label will do for an empty file; the extension's is the least surprising.
        fmt = fmt or _EXTENSIONS.get(extension, "ris")
        return ParseResult(format=fmt, records=(), errors=(ParseError(1, "the file is empty"),))
    fmt = fmt or _detect(data, text, extension)
    return _PARSERS[fmt](text)


def _known_format(format: str) -> str:
    name = format.strip().lower().lstrip(".")
    name = _FORMAT_ALIASES.get(name, name)
    if name not in FORMATS:
        raise UnknownFormat(f"Unknown format {format!r}: expected 'ris', 'bibtex' or 'csv'.")
    return name
