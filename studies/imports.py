"""Imports of reference-manager exports: one service behind the workspace page, the API and the
`import_references` command.

The parsers (studies.parsers) are pure: bytes in, records and line-numbered errors out. Here each
record is checked against the Study model and classified as new, a duplicate (of an existing study,
by normalised DOI else normalised title + year, or of an earlier record in the same file) or an
error; committing saves the new ones as drafts in one transaction, or nothing at all.
"""

import dataclasses
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from simple_history.utils import bulk_create_with_history

from evidence import rules

from .constants import ReviewStatus
from .identifiers import InvalidDOI, normalize_doi, normalize_title
from .models import MAX_YEAR, MIN_YEAR, Study
from .parsers import ParsedRecord, UnknownFormat, parse

NEW, DUPLICATE, ERROR = "new", "duplicate", "error"
FORMAT_LABELS = {"ris": "RIS", "bibtex": "BibTeX", "csv": "CSV"}
# Longer than any real title: what is left is a record whose next tag line was lost, so that the
# rest of the record ran into its title.
TITLE_MAX_CHARS = 1000
# title_key is a 500-character column; the duplicate lookup compares the same prefix.
TITLE_KEY_CHARS = 500
# Drafts per INSERT (and per history INSERT): big enough that a commit's query count is
# constant for any real file, small enough to bound the statement's size.
INSERT_ROWS = 2000
CHANGE_REASON = "Imported from a reference file"
# The phases a progress callback hears about, with (done, total) records.
READING, CHECKING, SAVING = "reading", "checking", "saving"
PROGRESS_EVERY = 500
NEW_ROWS_SHOWN = 200  # a preview lists every error and duplicate, and this many new records
Progress = Callable[[str, int, int], None]


class ImportRefused(ValueError):
    """The file as a whole cannot be imported (too large, unknown format): nothing was read."""

    def __init__(self, message: str, *, field: str = "file"):
        super().__init__(message)
        self.field = field  # the input at fault: "file" or "format"


class ImportFailed(Exception):
    """A record could not be saved: the transaction was rolled back and nothing was created."""

    def __init__(self, line: int, reason: str):
        super().__init__(
            f"line {line}: the record could not be saved ({reason}); nothing was imported."
        )
        self.line = line


@dataclass(frozen=True)
class ExistingStudy:
    """The study already in the database that an imported record duplicates."""

    pk: int
    title: str
    year: int
    status: str
    created_by_id: int | None


@dataclass(frozen=True)
class ImportIssue:
    line: int
    message: str


@dataclass(frozen=True)
class ImportRow:
    """One record of the file and what importing it would do."""

    line: int
    status: str  # NEW, DUPLICATE or ERROR
    message: str = ""
    record: ParsedRecord | None = None  # None for a record the parser could not read
    doi: str | None = None  # normalised
    duplicate_of: ExistingStudy | None = None
    duplicate_of_line: int | None = None  # an earlier record of the same file

    @property
    def title(self) -> str:
        return self.record.title if self.record else ""

    @property
    def year(self) -> int | None:
        return self.record.year if self.record else None

    @property
    def keywords(self) -> tuple[str, ...]:
        return self.record.keywords if self.record else ()

    @property
    def duplicate_of_id(self) -> int | None:
        return self.duplicate_of.pk if self.duplicate_of else None


@dataclass(frozen=True)
class ImportPreview:
    """What importing a file would do, record by record, in file order."""

    format: str
    filename: str
    rows: tuple[ImportRow, ...]

    @property
    def format_label(self) -> str:
        return FORMAT_LABELS.get(self.format, self.format)

    @property
    def new(self) -> tuple[ImportRow, ...]:
        return tuple(r for r in self.rows if r.status == NEW)

    @property
    def duplicates(self) -> tuple[ImportRow, ...]:
        return tuple(r for r in self.rows if r.status == DUPLICATE)

    @property
    def errors(self) -> tuple[ImportIssue, ...]:
        return tuple(ImportIssue(r.line, r.message) for r in self.rows if r.status == ERROR)


@dataclass(frozen=True)
class ImportResult:
    """What an import did (or, for a dry run, would do): created, skipped as duplicates, errors."""

    preview: ImportPreview
    study_ids: tuple[int, ...] = ()
    dry_run: bool = False

    @property
    def format(self) -> str:
        return self.preview.format

    @property
    def new(self) -> int:
        return len(self.preview.new)

    @property
    def created(self) -> int:
        return len(self.study_ids)

    @property
    def duplicates(self) -> int:
        return len(self.preview.duplicates)

    @property
    def errors(self) -> tuple[ImportIssue, ...]:
        return self.preview.errors

    @property
    def rows(self) -> tuple[ImportRow, ...]:
        return self.preview.rows

    def as_dict(self) -> dict[str, Any]:
        """The summary as the API returns it (for the command's --json)."""
        return {
            "format": self.format,
            "dry_run": self.dry_run,
            "new": self.new,
            "created": self.created,
            "duplicates": self.duplicates,
            "errors": [{"line": e.line, "message": e.message} for e in self.errors],
            "study_ids": list(self.study_ids),
            "records": [
                {
                    "line": r.line,
                    "status": r.status,
                    "title": r.title,
                    "year": r.year,
                    "doi": r.doi,
                    "keywords": list(r.keywords),
                    "duplicate_of": r.duplicate_of_id,
                    "duplicate_of_line": r.duplicate_of_line,
                    "message": r.message,
                }
                for r in self.rows
            ],
        }


def import_max_bytes() -> int:
    return settings.IMPORT_MAX_BYTES


def import_check_size(size: int) -> None:
    """Refuse a file over IMPORT_MAX_BYTES (front ends call this before reading an upload)."""
    limit = import_max_bytes()
    if size > limit:
        raise ImportRefused(
            f"The file is {_megabytes(size)}; files up to {_megabytes(limit)} can be imported. "
            "Export the references in several smaller files."
        )


def import_preview(
    *,
    data: bytes,
    filename: str = "",
    format: str | None = None,
    progress: Progress | None = None,
) -> ImportPreview:
    """Parse an export and classify each record as new, duplicate or error; writes nothing.

    Raises ImportRefused for a file too large or in no format we read. Looks duplicates up in
    bulk: one query for all the DOIs and one for all the titles, however many records there are.
    """
    import_check_size(len(data))
    if progress:
        progress(READING, 0, 0)
    try:
        parsed = parse(data, format=format or None, filename=filename)
    except UnknownFormat as exc:
        raise ImportRefused(str(exc), field="format" if format else "file") from exc
    rows: list[ImportRow] = [ImportRow(e.line, ERROR, e.message) for e in parsed.errors]
    candidates: list[tuple[ParsedRecord, str | None, str]] = []
    total = len(parsed.records)
    for done, record in enumerate(parsed.records):
        if progress and done % PROGRESS_EVERY == 0:
            progress(CHECKING, done, total)
        problem, doi = _check(record)
        if problem:
            rows.append(ImportRow(record.line, ERROR, problem, record=record, doi=doi))
        else:
            candidates.append((record, doi, normalize_title(record.title)[:TITLE_KEY_CHARS]))
    rows.extend(_classify(candidates))
    rows.sort(key=lambda r: r.line)
    if progress:
        progress(CHECKING, total, total)
    return ImportPreview(format=parsed.format, filename=filename, rows=tuple(rows))


def import_commit(
    *,
    data: bytes,
    user=None,
    filename: str = "",
    format: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import an export: create its new records as drafts owned by the user, all or none.

    Duplicates and records with errors are skipped and reported. The file is parsed and checked
    again here, so a caller never has to be trusted with the preview. The drafts and their
    history rows are inserted in bulk, a constant number of queries per INSERT_ROWS records.
    Raises ImportRefused (the file) or ImportFailed (a record failed to save: nothing was
    created). `progress`, if given, is called with (phase, done, total) as the work advances.
    """
    preview = import_preview(data=data, filename=filename, format=format, progress=progress)
    if dry_run or not preview.new:
        return ImportResult(preview=preview, dry_run=dry_run)
    from evidence.services import study_tiers_refresh

    author = user if user is not None and user.is_authenticated else None
    note = _source_note(filename, preview.format_label)
    rows = preview.new
    study_ids: list[int] = []
    with transaction.atomic():
        try:
            # A savepoint, so that after a refusal the records can be tried one by one to name
            # the line at fault; the outer block still rolls every row back.
            with transaction.atomic():
                for start in range(0, len(rows), INSERT_ROWS):
                    chunk = rows[start : start + INSERT_ROWS]
                    created = bulk_create_with_history(
                        [_draft(row, note=note, author=author) for row in chunk],
                        Study,
                        batch_size=INSERT_ROWS,
                        default_user=author,
                        default_change_reason=CHANGE_REASON,
                    )
                    study_ids.extend(study.pk for study in created)
                    if progress:
                        progress(SAVING, len(study_ids), len(rows))
        except DatabaseError as exc:
            line, reason = _first_refused(rows, note=note, author=author, error=exc)
            raise ImportFailed(line, reason) from exc
        for ids in _chunks(study_ids):
            study_tiers_refresh(study_ids=ids)
    return ImportResult(preview=preview, study_ids=tuple(study_ids))


def _draft(row: ImportRow, *, note: str, author) -> Study:
    """The draft study a new record becomes (with the natural keys Study.save would set, since
    bulk inserts skip save())."""
    assert row.record is not None
    study = _study(row.record, row.doi, note=f"{note}, line {row.line}")
    study.title_key = normalize_title(study.title)[:TITLE_KEY_CHARS]
    study.status = ReviewStatus.DRAFT
    study.created_by = study.updated_by = author
    # The tier it would earn (rules are pure), so that study_tiers_refresh finds nothing to
    # update: an UPDATE of every new row would cost as much as inserting them.
    study.essa_reason = dict(_tier_of(study.design, study.wwc_rating, study.sample_unit))
    study.essa_tier = study.essa_reason["tier"]
    return study


@functools.cache
def _tier_of(design: str, wwc_rating: str, sample_unit: str) -> dict:
    # An imported record carries no sample size, sites or effects: its design decides.
    facts = rules.StudyFacts(0, design, wwc_rating, sample_unit=sample_unit)
    return rules.study_tier(facts).as_dict()


def _first_refused(
    rows: tuple[ImportRow, ...], *, note: str, author, error: DatabaseError
) -> tuple[int, str]:
    """(line, reason) of the first record the database refuses on its own.

    Only runs after a bulk insert failed, inside the import's transaction (which is then rolled
    back): slow, but it names the record at fault.
    """
    for row in rows:
        try:
            with transaction.atomic():
                Study.objects.bulk_create([_draft(row, note=note, author=author)])
        except DatabaseError as exc:
            return row.line, _reason(exc)
    return rows[0].line, _reason(error)


def _reason(exc: DatabaseError) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def preview_summary(preview: ImportPreview, *, new_shown: int = NEW_ROWS_SHOWN) -> dict[str, Any]:
    """The preview as plain data, for the page and for a background batch to keep: the counts,
    every duplicate and error, and the first `new_shown` new records."""
    rows, new_seen = [], 0
    for row in preview.rows:
        if row.status == NEW:
            new_seen += 1
            if new_seen > new_shown:
                continue
        record = row.record
        rows.append(
            {
                "line": row.line,
                "status": row.status,
                "message": row.message,
                "title": record.title if record else "",
                "year": record.year if record else None,
                "authors": list(record.authors) if record else [],
                "venue": record.venue if record else "",
                "doi": row.doi,
                "keywords": list(row.keywords),
                "duplicate_of": dataclasses.asdict(row.duplicate_of) if row.duplicate_of else None,
                "duplicate_of_line": row.duplicate_of_line,
            }
        )
    return {
        "filename": preview.filename,
        "format_label": preview.format_label,
        "total": len(preview.rows),
        "new": len(preview.new),
        "duplicates": len(preview.duplicates),
        "errors": len(preview.errors),
        "rows": rows,
        "new_hidden": max(0, new_seen - new_shown),
    }


# --- Checks and duplicate detection ------------------------------------------------------------


def _check(record: ParsedRecord) -> tuple[str | None, str | None]:
    """(why the record cannot become a study or None, its normalised DOI)."""
    try:
        doi = normalize_doi(record.doi)
    except InvalidDOI as exc:
        return f"invalid DOI: {exc}", None
    if len(record.title) > TITLE_MAX_CHARS:
        return (
            f"the title is {len(record.title):,} characters long (at most {TITLE_MAX_CHARS:,}): "
            "a tag line of this record is probably missing",
            doi,
        )
    if record.year is None:
        return "the record has no year; a study needs its publication year", doi
    if not MIN_YEAR <= record.year <= MAX_YEAR:
        return f"year {record.year} is outside {MIN_YEAR}-{MAX_YEAR}", doi
    for name, value in _checked_values(record, doi):
        try:
            Study._meta.get_field(name).clean(value, None)
        except ValidationError as exc:
            shown = value if len(value) <= 60 else value[:57] + "..."
            return f"{name} '{shown}': {' '.join(exc.messages)}", doi
    return None, doi


def _checked_values(record: ParsedRecord, doi: str | None) -> Iterable[tuple[str, str]]:
    # The Study fields an export can make invalid (lengths, the URL); checked field by field
    # because a whole full_clean() per record would double the time of a large preview.
    values = {
        "venue": record.venue,
        "volume": record.volume,
        "issue": record.issue,
        "pages": record.pages,
        "doi": doi or "",
        "url": record.url,
        "publication_type": record.publication_type,
    }
    return ((name, value) for name, value in values.items() if value)


def _classify(candidates: list[tuple[ParsedRecord, str | None, str]]) -> list[ImportRow]:
    by_doi = _existing_by_doi({doi for _, doi, _ in candidates if doi})
    by_title = _existing_by_title({(key, r.year) for r, _, key in candidates})
    line_of_doi: dict[str, int] = {}
    line_of_title: dict[tuple[str, int | None], int] = {}
    rows = []
    for record, doi, key in candidates:
        title_year = (key, record.year)
        # The same order as study_find_duplicate: a DOI match first, else title and year.
        existing = (by_doi.get(doi) if doi else None) or by_title.get(title_year)
        # A title of no Latin letters or digits (Cyrillic, Chinese ...) folds to an empty key,
        # which would make every such title of a year a duplicate of the others.
        earlier = (line_of_doi.get(doi) if doi else None) or (
            line_of_title.get(title_year) if key else None
        )
        if existing:
            row = ImportRow(
                record.line,
                DUPLICATE,
                f"duplicate of study {existing.pk}",
                record=record,
                doi=doi,
                duplicate_of=existing,
            )
        elif earlier:
            row = ImportRow(
                record.line,
                DUPLICATE,
                f"duplicate of the record on line {earlier} of this file",
                record=record,
                doi=doi,
                duplicate_of_line=earlier,
            )
        else:
            row = ImportRow(record.line, NEW, record=record, doi=doi)
        if doi:
            line_of_doi.setdefault(doi, record.line)
        if key:
            line_of_title.setdefault(title_year, record.line)
        rows.append(row)
    return rows


_EXISTING_FIELDS = ("pk", "title", "year", "status", "created_by_id")


def _existing_by_doi(dois: set[str]) -> dict[str, ExistingStudy]:
    found = {}
    for chunk in _chunks(sorted(dois)):
        for doi, *values in Study.objects.filter(doi__in=chunk).values_list(
            "doi", *_EXISTING_FIELDS
        ):
            found[doi] = ExistingStudy(*values)
    return found


def _existing_by_title(keys: set[tuple[str, int | None]]) -> dict[tuple[str, int], ExistingStudy]:
    wanted = {key for key, _ in keys if key}
    found: dict[tuple[str, int], ExistingStudy] = {}
    for chunk in _chunks(sorted(wanted)):
        rows = (
            Study.objects.filter(title_key__in=chunk)
            .order_by("pk")
            .values_list("title_key", *_EXISTING_FIELDS)
        )
        for key, *values in rows:
            existing = ExistingStudy(*values)
            if (key, existing.year) in keys:
                found.setdefault((key, existing.year), existing)
    return found


def _chunks(values: list) -> Iterable[list]:
    # One query on PostgreSQL; SQLite caps the number of parameters in a statement.
    size = connection.features.max_query_params or len(values) or 1
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- Records to studies -----------------------------------------------------------------------


def _study(record: ParsedRecord, doi: str | None, *, note: str) -> Study:
    return Study(
        title=record.title,
        authors=list(record.authors),
        year=record.year,
        venue=record.venue,
        volume=record.volume,
        issue=record.issue,
        pages=record.pages,
        doi=doi,
        url=record.url,
        abstract=record.abstract,
        publication_type=record.publication_type,
        source_note=note,
    )


def _source_note(filename: str, label: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1][:200] or "an upload"
    return f"Imported from {name} ({label})"


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MB"
