"""Citations and reference-manager exports (APA text, RIS, BibTeX, CSV) of studies.

Plain functions over objects with the Study's citation attributes; no database access.
"""

import csv
import io
import re
import unicodedata
from collections.abc import Iterable

RIS_TYPES = {
    "journal_article": "JOUR",
    "report": "RPRT",
    "working_paper": "RPRT",
    "book": "BOOK",
    "book_chapter": "CHAP",
    "dissertation": "THES",
    "conference_paper": "CONF",
    "web_page": "ELEC",
}
BIBTEX_TYPES = {
    "journal_article": "article",
    "report": "techreport",
    "working_paper": "techreport",
    "book": "book",
    "book_chapter": "incollection",
    "dissertation": "phdthesis",
    "conference_paper": "inproceedings",
    "web_page": "misc",
}
CSV_FIELDS = [
    "title",
    "authors",
    "year",
    "venue",
    "volume",
    "issue",
    "pages",
    "doi",
    "url",
    "abstract",
    "publication_type",
    "design",
    "sample_size",
]


def _authors_apa(authors: list[str]) -> str:
    if not authors:
        return ""
    if len(authors) == 1:
        return authors[0]
    if len(authors) <= 20:
        return ", ".join(authors[:-1]) + ", & " + authors[-1]
    return ", ".join(authors[:19]) + ", … " + authors[-1]


def apa_citation(study) -> str:
    """An APA-style reference: Authors (Year). Title. Venue, Volume(Issue), pages. https://doi.org/…"""
    parts = []
    authors = _authors_apa(list(study.authors))
    parts.append(f"{authors} ({study.year})." if authors else f"{study.title} ({study.year}).")
    if authors:
        parts.append(study.title.rstrip(".") + ".")
    venue = study.venue
    if venue:
        if study.volume:
            venue += f", {study.volume}" + (f"({study.issue})" if study.issue else "")
        if study.pages:
            venue += f", {study.pages}"
        parts.append(venue + ".")
    if study.doi:
        parts.append(f"https://doi.org/{study.doi}")
    elif study.url:
        parts.append(study.url)
    return " ".join(parts)


def _pages(pages: str) -> tuple[str, str]:
    bits = re.split(r"\s*[-–—]+\s*", pages, maxsplit=1)
    return (bits[0], bits[1] if len(bits) > 1 else "") if pages else ("", "")


def to_ris(studies: Iterable) -> str:
    """RIS records, one per study, readable by Zotero, EndNote and Mendeley."""
    out = []
    for s in studies:
        lines = [f"TY  - {RIS_TYPES.get(s.publication_type, 'GEN')}"]
        # One line per tag: a line break in a value would start a tag (or a record) of its own.
        lines += [f"AU  - {_one_line(a)}" for a in s.authors]
        lines.append(f"TI  - {_one_line(s.title)}")
        lines.append(f"PY  - {s.year}")
        for tag, value in (
            ("T2", s.venue),
            ("VL", s.volume),
            ("IS", s.issue),
            ("DO", s.doi or ""),
            ("UR", s.url),
            ("AB", s.abstract),
        ):
            if value:
                lines.append(f"{tag}  - {_one_line(value)}")
        start, end = _pages(s.pages)
        if start:
            lines.append(f"SP  - {start}")
        if end:
            lines.append(f"EP  - {end}")
        lines.append("ER  - ")
        out.append("\n".join(lines))
    return "\n\n".join(out) + ("\n" if out else "")


def _one_line(value) -> str:
    return " ".join(str(value).split())


def _bibtex_escape(value: str) -> str:
    # A bare backslash would escape the closing brace ("{C:\}") and run the value into the rest
    # of the entry; it is written as the macro that reads back as a backslash.
    return re.sub(
        r"[&%$#_{}\\]",
        lambda m: r"\textbackslash{}" if m.group() == "\\" else "\\" + m.group(),
        str(value),
    )


def bibtex_key(study) -> str:
    first = study.authors[0].split(",")[0] if study.authors else "anon"
    ascii_name = unicodedata.normalize("NFKD", first).encode("ascii", "ignore").decode()
    word = next((w for w in re.findall(r"[A-Za-z]+", study.title) if len(w) > 3), "study")
    return f"{re.sub(r'[^A-Za-z]', '', ascii_name).lower() or 'anon'}{study.year}{word.lower()}"


def to_bibtex(studies: Iterable) -> str:
    """BibTeX entries, one per study."""
    out = []
    for s in studies:
        venue_field = (
            "journal"
            if s.publication_type == "journal_article"
            else "booktitle"
            if s.publication_type in ("book_chapter", "conference_paper")
            else "institution"
            if s.publication_type in ("report", "working_paper")
            else "publisher"
        )
        fields = [
            ("author", " and ".join(s.authors)),
            ("title", s.title),
            ("year", s.year),
            (venue_field, s.venue),
            ("volume", s.volume),
            ("number", s.issue),
            ("pages", s.pages.replace("-", "--") if s.pages else ""),
            ("doi", s.doi or ""),
            ("url", s.url),
            ("abstract", s.abstract),
        ]
        body = ",\n".join(
            f"  {name} = {{{_bibtex_escape(value)}}}" for name, value in fields if value
        )
        out.append(f"@{BIBTEX_TYPES.get(s.publication_type, 'misc')}{{{bibtex_key(s)},\n{body}\n}}")
    return "\n\n".join(out) + ("\n" if out else "")


def to_csv(studies: Iterable) -> str:
    """CSV with a header row; authors separated by semicolons."""
    buffer = io.StringIO()
    writer = spreadsheet_writer(buffer)
    writer.writerow(CSV_FIELDS)
    for s in studies:
        row = []
        for name in CSV_FIELDS:
            value = getattr(s, name)
            row.append("; ".join(value) if name == "authors" else "" if value is None else value)
        writer.writerow(row)
    return buffer.getvalue()


# A cell a spreadsheet would run as a formula ("=HYPERLINK(...)", "@SUM(...)", "+cmd|...").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def spreadsheet_safe(value):
    """A CSV cell that Excel, LibreOffice and Google Sheets show as text, never run (OWASP).

    Text starting with = + - @ or a tab/CR gets a leading apostrophe; numbers pass unchanged.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


class _SpreadsheetWriter:
    def __init__(self, out, **options):
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable) -> None:
        self._writer.writerow([spreadsheet_safe(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


def spreadsheet_writer(out, **options) -> _SpreadsheetWriter:
    """csv.writer whose cells are made spreadsheet-safe; every CSV the site serves uses it."""
    return _SpreadsheetWriter(out, **options)
