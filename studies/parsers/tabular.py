"""CSV (and tab-delimited) parsing: Scopus, Web of Science, Zotero and hand-made spreadsheets."""

import csv
import io
import re

from .base import (
    ParsedRecord,
    ParseError,
    ParseResult,
    clean,
    first,
    join_pages,
    make_record,
    publication_type,
    result,
    split_list,
)

# Header names per field, compared after lower-casing and turning punctuation into spaces;
# the first one present wins. Web of Science tab-delimited files use two-letter codes.
_COLUMNS = {
    "title": ("title", "article title", "document title", "primary title", "ti"),
    "authors": ("authors", "author", "author s", "creators", "af", "au"),
    "year": ("year", "publication year", "py", "pubyear", "date", "publication date"),
    "venue": (
        "journal",
        "venue",
        "source title",
        "publication",
        "publication title",
        "journal title",
        "journal name",
        "secondary title",
        "so",
        "book title",
        "publisher",
    ),
    "volume": ("volume", "vol", "vl"),
    "issue": ("issue", "number", "issue number", "is", "no"),
    "pages": ("pages", "page", "page range", "pp"),
    "start_page": ("page start", "start page", "first page", "bp"),
    "end_page": ("page end", "end page", "last page", "ep"),
    "doi": ("doi", "di"),
    "url": ("url", "link", "links", "ur"),
    "abstract": ("abstract", "abstract note", "ab"),
    # Zotero's "Type" column is the thesis/report subtype; "Item Type" is the one we want.
    "type": (
        "item type",
        "publication type",
        "document type",
        "reference type",
        "type",
        "dt",
        "pt",
    ),
    "keywords": ("author keywords", "keywords", "keyword", "manual tags", "tags", "de"),
}
# Older Scopus exports separate authors with commas: "Smith J., Doe A.B."
_INITIALS_COMMA = re.compile(r"(?<=\.),\s+")


def parse_csv(text: str) -> ParseResult:
    """Parse a CSV or tab-delimited export with a header row."""
    lines = text.split("\n")
    offset = 0
    while offset < len(lines) and not lines[offset].strip():
        offset += 1
    if offset == len(lines):
        return result("csv", [], [ParseError(1, "the file is empty")])
    delimiter = _delimiter(lines[offset])
    sep_hint = re.fullmatch(r"\s*sep=([^\w\s\"]|\t)\s*", lines[offset])
    if sep_hint:
        # Excel writes "sep=;" as the first line of CSVs it saves for another locale.
        delimiter = sep_hint.group(1)
        offset += 1
    reader = csv.reader(io.StringIO("\n".join(lines[offset:])), delimiter=delimiter)
    items: list[ParsedRecord | ParseError] = []
    columns: dict[str, int] | None = None
    header_line = offset + 1
    consumed = 0
    try:
        for row in reader:
            # line_num counts the physical lines read so far, quoted line breaks included.
            line = offset + consumed + 1
            consumed = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if columns is None:
                header_line = line
                columns = _columns(row)
                if "title" not in columns:
                    shown = ", ".join(clean(c) for c in row[:8] if clean(c)) or "nothing"
                    message = f"the first row must be a header with a Title column (found: {shown})"
                    return result("csv", [], [ParseError(line, message[:300])])
                continue
            items.append(_record(line, row, columns))
    except csv.Error as exc:
        items.append(ParseError(offset + consumed + 1, f"malformed CSV row ({exc})"))
    extra = []
    if columns is not None and not items:
        extra.append(ParseError(header_line, "the CSV file has a header row but no data rows"))
    return result("csv", items, extra)


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _columns(header: list[str]) -> dict[str, int]:
    names: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = " ".join(re.sub(r"[^a-z0-9]+", " ", cell.lower().lstrip("\ufeff")).split())
        names.setdefault(name, index)
    columns = {}
    for field, aliases in _COLUMNS.items():
        for alias in aliases:
            if alias in names:
                columns[field] = names[alias]
                break
    return columns


def _record(line: int, row: list[str], columns: dict[str, int]) -> ParsedRecord | ParseError:
    def get(field: str) -> str:
        index = columns.get(field)
        return row[index] if index is not None and index < len(row) else ""

    authors = get("authors")
    if ";" in authors:
        names = split_list([authors])
    else:
        names = split_list(_INITIALS_COMMA.split(authors)) if re.search(r"\.,", authors) else ()
        names = names or split_list([authors])
    return make_record(
        line,
        title=get("title"),
        authors=names,
        years=[get("year")],
        venue=get("venue"),
        volume=get("volume"),
        issue=get("issue"),
        pages=first(get("pages")) or join_pages(get("start_page"), get("end_page")),
        doi=get("doi").strip() or None,
        url=get("url"),
        abstract=get("abstract"),
        publication_type=publication_type(get("type")),
        keywords=split_list([get("keywords")]),
    )
