"""The parse result types and the field clean-up shared by the RIS, BibTeX and CSV parsers."""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

PUBLICATION_TYPES = (
    "journal_article",
    "report",
    "working_paper",
    "book",
    "book_chapter",
    "dissertation",
    "conference_paper",
    "web_page",
    "other",
)


@dataclass(frozen=True)
class ParsedRecord:
    line: int
    title: str
    authors: tuple[str, ...]
    year: int | None
    venue: str
    volume: str
    issue: str
    pages: str
    doi: str | None
    url: str
    abstract: str
    publication_type: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class ParseError:
    line: int
    message: str


@dataclass(frozen=True)
class ParseResult:
    format: str
    records: tuple[ParsedRecord, ...]
    errors: tuple[ParseError, ...]


class UnknownFormat(ValueError):
    pass


# The first plausible publication year; the look-arounds keep "12019" or "20190501" from matching.
_YEAR = re.compile(r"(?<!\d)(18\d\d|19\d\d|20\d\d|2100)(?!\d)")
# Values that say "no year" on purpose; they are not typos, so they are not errors.
_NO_YEAR = re.compile(
    r"^(?:n\.?\s?d\.?|s\.?\s?d\.?|no date|undated|in press|forthcoming|unknown)$", re.IGNORECASE
)
# C0 controls other than tab and newline (NUL, the DOS end-of-file 0x1A ...) break databases.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Scopus fills empty cells with "[No abstract available]" and "[No author name available]".
_PLACEHOLDER = re.compile(r"^\[no .* available\]$", re.IGNORECASE)
_DASHES = re.compile(r"\s*(?:-+|[\u2010-\u2015\u2212])\s*")


def clean(value: str | None) -> str:
    """The value with runs of whitespace collapsed, stripped and in NFC form."""
    if not value:
        return ""
    return unicodedata.normalize("NFC", " ".join(value.split()))


def clean_text(value: str | None) -> str:
    """Like clean() but keeping paragraph breaks (for abstracts)."""
    if not value:
        return ""
    paragraphs = (" ".join(p.split()) for p in value.split("\n"))
    return unicodedata.normalize("NFC", "\n".join(p for p in paragraphs if p))


def strip_controls(text: str) -> str:
    """The text without control characters (other than tab and newline)."""
    return _CONTROL.sub("", text)


def first(*values: str | None) -> str:
    """The first non-empty value, cleaned."""
    for value in values:
        if cleaned := clean(value):
            return cleaned
    return ""


def split_list(values: Iterable[str], separators: str = ";") -> tuple[str, ...]:
    """Non-empty cleaned items of values, each value further split on the separators."""
    pattern = re.compile("[" + re.escape(separators) + "]")
    items = (clean(part) for value in values for part in pattern.split(value))
    return tuple(item for item in items if item)


def parse_year(raw: str) -> tuple[int | None, bool]:
    """(year, ok): the first 1800-2100 number in raw; ok is False when raw has text but no year."""
    value = clean(raw).strip("/ ")
    if not value or _NO_YEAR.match(value):
        return None, True
    match = _YEAR.search(value)
    if match is None:
        return None, False
    return int(match.group(1)), True


def join_pages(start: str, end: str = "") -> str:
    """Pages as "SP-EP"; abbreviated MEDLINE-style end pages ("704-37") are written out."""
    start, end = clean(start), clean(end)
    if not end and _DASHES.search(start.lstrip("-")):
        start, _, end = _DASHES.sub("-", start).partition("-")
    if not start or not end or start == end:
        return start or end
    if start.isdigit() and end.isdigit() and len(end) < len(start):
        end = start[: len(start) - len(end)] + end
    return f"{start}-{end}"


# Type codes and names seen in exports, compared after lower-casing and dropping punctuation.
_TYPE_CODES = {
    "journal_article": "jour jfull ejour inpr journalarticle article j",
    "report": "rprt govdoc report techreport",
    "working_paper": "unpb manscpt unpublished preprint",
    "book": "book ebook edbook b",
    "book_chapter": "chap echap booksection inbook incollection",
    "dissertation": "thes phdthesis mastersthesis thesis",
    "conference_paper": "conf cpaper inproceedings conference conferencepaper",
    "web_page": "elec web blog webpage online electronic www",
}
_CODE_TO_TYPE = {code: kind for kind, codes in _TYPE_CODES.items() for code in codes.split()}
# Free-text document types ("Proceedings Paper", "Reports - Research"), most specific first.
_TYPE_WORDS = (
    ("working_paper", ("working paper", "discussion paper", "preprint")),
    ("book_chapter", ("chapter", "book section")),
    ("dissertation", ("dissertation", "thesis", "theses")),
    ("journal_article", ("journal",)),
    ("conference_paper", ("conference", "proceeding", "meeting", "symposium")),
    ("report", ("report",)),
    (
        "journal_article",
        ("article", "review", "editorial", "letter", "note", "erratum", "survey", "data paper"),
    ),
    ("book", ("book",)),
    ("web_page", ("web", "online", "blog")),
)


def publication_type(*raw: str | None) -> str:
    """The first of the raw type names or codes that maps to a known publication type."""
    for value in raw:
        words = " ".join(re.sub(r"[^a-z0-9]+", " ", (value or "").lower()).split())
        if not words:
            continue
        if kind := _CODE_TO_TYPE.get(words.replace(" ", "")):
            return kind
        for kind, needles in _TYPE_WORDS:
            if any(needle in words for needle in needles):
                return kind
    return "other"


def make_record(
    line: int,
    *,
    title: str,
    authors: Iterable[str] = (),
    years: Iterable[str] = (),
    venue: str = "",
    volume: str = "",
    issue: str = "",
    pages: str = "",
    doi: str | None = None,
    url: str = "",
    abstract: str = "",
    publication_type: str = "other",
    keywords: Iterable[str] = (),
) -> ParsedRecord | ParseError:
    """A record, or one error naming every problem that stops the record from being usable."""
    problems = []
    title = clean(title)
    if not title:
        problems.append("record has no title")
    year, bad_year = None, ""
    for raw in years:
        candidate, ok = parse_year(raw)
        if candidate is not None:
            year, bad_year = candidate, ""
            break
        if not ok and not bad_year:
            bad_year = clean(raw)
    if bad_year:
        shown = bad_year if len(bad_year) <= 40 else bad_year[:37] + "..."
        problems.append(f"year '{shown}' is not a year")
    if problems:
        return ParseError(line=line, message="; ".join(problems))
    return ParsedRecord(
        line=line,
        title=title,
        authors=tuple(a for a in (clean(a) for a in authors) if a and not _PLACEHOLDER.match(a)),
        year=year,
        venue=clean(venue),
        volume=clean(volume),
        issue=clean(issue),
        pages=join_pages(pages),
        doi=clean(doi) or None,
        url=clean(url),
        abstract="" if _PLACEHOLDER.match(clean(abstract)) else clean_text(abstract),
        publication_type=publication_type,
        keywords=tuple(k for k in (clean(k) for k in keywords) if k),
    )


def result(
    fmt: str, items: Iterable[ParsedRecord | ParseError], extra_errors: Iterable[ParseError] = ()
) -> ParseResult:
    """Sort parsed items into records and errors (errors ordered by line)."""
    items = list(items)
    records = tuple(i for i in items if isinstance(i, ParsedRecord))
    errors = [i for i in items if isinstance(i, ParseError)] + list(extra_errors)
    return ParseResult(
        format=fmt, records=records, errors=tuple(sorted(errors, key=lambda e: e.line))
    )
