"""Fuzzing the RIS, BibTeX and CSV parsers and the import service: bad files give line-numbered
errors, never an exception, and what they do accept can be saved (no NUL bytes, no lone
surrogates, nothing longer than its column).

Run more cases with HYPOTHESIS_PROFILE=thorough.
"""

import codecs
import contextlib
import csv
import io
import time

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from studies.imports import ImportRefused, import_commit, import_preview
from studies.parsers import ParseResult, UnknownFormat, decode, parse
from tests.security.fuzz import NASTY_CHARS, fuzz, nasty_text
from tests.studies.test_imports import SAMPLES

FORMATS = [None, "ris", "bibtex", "csv"]
FILENAMES = ["", "refs.ris", "refs.bib", "refs.csv", "refs.txt", "refs.nbib", "refs.tsv", "x.xlsx"]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"]


def line_count(data: bytes) -> int:
    return decode(data).count("\n") + 1


def assert_clean(result: ParseResult, lines: int) -> None:
    """Every error names a line of the file; every record is text a database will store."""
    assert result.format in ("ris", "bibtex", "csv")
    for error in result.errors:
        assert isinstance(error.message, str) and error.message.strip()
        assert 1 <= error.line <= lines, error
    for record in result.records:
        assert 1 <= record.line <= lines, record
        assert record.title
        texts = [
            record.title,
            record.venue,
            record.volume,
            record.issue,
            record.pages,
            record.doi or "",
            record.url,
            record.abstract,
            *record.authors,
            *record.keywords,
        ]
        for text in texts:
            assert isinstance(text, str)
            assert "\x00" not in text, record
            text.encode("utf-8")  # no lone surrogates (PostgreSQL refuses them)
        if record.year is not None:
            assert 1800 <= record.year <= 2100


def parse_cleanly(data: bytes, fmt: str | None, filename: str = "") -> ParseResult | None:
    try:
        result = parse(data, format=fmt, filename=filename)
    except UnknownFormat as exc:
        assert fmt is None, "a named format is never refused as unknown"
        assert str(exc)
        return None
    assert_clean(result, line_count(data))
    return result


# --- Arbitrary input ---------------------------------------------------------------------------


@fuzz(3)
@given(st.binary(max_size=2000), st.sampled_from(FORMATS), st.sampled_from(FILENAMES))
def test_arbitrary_bytes_give_records_or_line_numbered_errors(data, fmt, filename):
    parse_cleanly(data, fmt, filename)


@fuzz(3)
@given(nasty_text, st.sampled_from(ENCODINGS), st.sampled_from(FORMATS))
@example("TY  - JOUR\nTI  - a\x00b\nPY  - 2020\nER  - ", "utf-16", "ris")
@example('@article{k, title={\\char"D800}, year=2020}', "utf-8", "bibtex")
@example("title,year\n\"=cmd|' /C calc'!A0\",2020", "utf-8", "csv")
def test_arbitrary_text_in_any_encoding_gives_clean_results(text, encoding, fmt):
    data = text.encode(encoding, errors="replace")
    parse_cleanly(data, fmt)


# --- Real-looking records, mangled -------------------------------------------------------------

mutation = st.one_of(
    st.tuples(st.just("delete"), st.integers(0, 10_000)),
    st.tuples(st.just("duplicate"), st.integers(0, 10_000)),
    st.tuples(st.just("swap"), st.integers(0, 10_000), st.integers(0, 10_000)),
    st.tuples(st.just("insert"), st.integers(0, 10_000), nasty_text),
    st.tuples(st.just("splice"), st.integers(0, 100_000), st.sampled_from(NASTY_CHARS)),
    st.tuples(st.just("truncate"), st.integers(0, 100_000)),
    st.tuples(st.just("repeat"), st.integers(0, 10_000), st.integers(2, 50)),
)


def mangle(data: bytes, mutations) -> bytes:
    """The export after line- and character-level damage (as editors and e-mail do to files)."""
    text = data.decode("utf-8", errors="surrogateescape")
    for op, *args in mutations:
        lines = text.split("\n")
        at = args[0] % (len(lines) or 1)
        if op == "delete":
            del lines[at]
        elif op == "duplicate":
            lines.insert(at, lines[at] if lines else "")
        elif op == "swap":
            other = args[1] % (len(lines) or 1)
            if lines:
                lines[at], lines[other] = lines[other], lines[at]
        elif op == "insert":
            lines.insert(at, args[1])
        elif op == "repeat" and lines:
            lines[at] = lines[at] * args[1]
        text = "\n".join(lines)
        if op == "splice":
            pos = args[0] % (len(text) + 1)
            text = text[:pos] + args[1] + text[pos:]
        elif op == "truncate":
            text = text[: args[0] % (len(text) + 1)]
    return text.encode("utf-8", errors="surrogateescape")


@fuzz(2)
@given(
    st.sampled_from(SAMPLES), st.lists(mutation, min_size=1, max_size=6), st.sampled_from(FORMATS)
)
def test_mangled_real_exports_give_records_or_line_numbered_errors(sample, mutations, fmt):
    parse_cleanly(mangle(sample, mutations), fmt)


ris_tag = st.sampled_from(
    ["TY", "ER", "AU", "A1", "TI", "T1", "T2", "JO", "PY", "Y1", "DA", "KW", "UR", "DO"]
    + ["SP", "EP", "AB", "N2", "VL", "IS", "L2", "M3", "BT", "PB"]
)


@fuzz(2)
@given(
    st.lists(
        st.tuples(ris_tag, st.sampled_from(["  - ", " - ", "  -", "   - "]), nasty_text),
        max_size=40,
    )
)
def test_ris_records_with_hostile_values_parse_cleanly(fields):
    text = "\n".join(f"{tag}{sep}{value}" for tag, sep, value in fields)
    parse_cleanly(text.encode("utf-8", errors="replace"), "ris")


bibtex_value = st.one_of(
    nasty_text.map(lambda v: "{" + v + "}"),
    nasty_text.map(lambda v: '"' + v + '"'),
    st.integers(-10_000, 10_000).map(str),
    st.sampled_from(
        [
            r"{\char" + '"' + "D800}",
            r"{\"{o}\'e\c{c}\v{s}}",
            "{$\\alpha$ and $x^2$}",
            r"{\url{https://x.org/%20}}",
            "{{{{{{{{{{}}}}}}}}}}",
            "{\\ensuremath{\\mathcal{X}}}",
            "{\\begin{itemize}}",
            "jan # { 2020}",
            "{2020--2021}",
            "{\\\\\\\\}",
            "{%}",
        ]
    ),
)
bibtex_field = st.sampled_from(
    ["title", "author", "year", "date", "journal", "booktitle", "pages", "doi", "url", "abstract"]
    + ["keywords", "volume", "number", "howpublished", "type", "publisher", "Title", "YEAR"]
)


@fuzz(1)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["article", "book", "techreport", "misc", "string", "comment", "x"]),
            st.text(alphabet="abcdefgh0123456789:_-", max_size=8),
            st.lists(st.tuples(bibtex_field, bibtex_value), max_size=8),
            st.sampled_from([",\n  ", ", ", "\n  ", ",,"]),
        ),
        max_size=5,
    )
)
def test_bibtex_entries_with_hostile_values_parse_cleanly(entries):
    text = "\n\n".join(
        f"@{kind}{{{key},\n  " + sep.join(f"{name} = {value}" for name, value in fields) + "\n}"
        for kind, key, fields, sep in entries
    )
    parse_cleanly(text.encode("utf-8", errors="replace"), "bibtex")


csv_header = st.lists(
    st.sampled_from(
        ["Title", "Authors", "Year", "Source title", "DOI", "Pages", "Page start", "Page end"]
        + ["Abstract", "Link", "Document Type", "Author Keywords", "Volume", "Issue", "", "x"]
    ),
    min_size=1,
    max_size=10,
)


@fuzz(1.5)
@given(
    csv_header,
    st.lists(st.lists(nasty_text, max_size=12), max_size=10),
    st.sampled_from([",", ";", "\t"]),
    st.booleans(),
)
def test_csv_rows_with_hostile_cells_parse_cleanly(header, rows, delimiter, quote_all):
    out = io.StringIO()
    writer = csv.writer(
        out,
        delimiter=delimiter,
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
        lineterminator="\n",
    )
    writer.writerow(header)
    writer.writerows(rows)
    parse_cleanly(codecs.BOM_UTF8 + out.getvalue().encode("utf-8", errors="replace"), "csv")


# --- Pathological files: linear time, whatever the content ----------------------------------

N = 200_000


@pytest.mark.parametrize(
    "text, fmt",
    [
        # Each continuation line was appended to a growing string: quadratic, 10 s for 1 MB.
        pytest.param("TY  - JOUR\nTI  - x\n" + "more\n" * N + "ER  - ", "ris", id="ris"),
        pytest.param("PMID- 1\nTI  - x\n" + "      more\n" * N, "ris", id="medline"),
        # Every value with LaTeX the fast path does not cover went to pylatexenc at ~10,000
        # characters a second: 38 s for 400 KB, hours for a 20 MB file.
        pytest.param("@article{k, title={" + "\\'" * N + "}, year=2020}", "bibtex", id="accents"),
        pytest.param(
            "@article{k, title={" + "$a$ " * (N // 4) + "}, year=2020}", "bibtex", id="math"
        ),
    ],
)
def test_pathological_files_are_parsed_in_bounded_time(text, fmt):
    start = time.perf_counter()
    result = parse(text.encode(), format=fmt)
    assert time.perf_counter() - start < 3
    assert len(result.records) + len(result.errors) == 1


def test_an_error_quotes_at_most_the_start_of_a_runaway_citation_key():
    result = parse(("@comment{" * 50_000).encode(), format="bibtex")
    assert result.errors and all(len(e.message) < 200 for e in result.errors)


def test_latex_within_the_budget_is_still_decoded():
    text = '@article{k, title={Na{\\"i}ve $\\alpha$ \\textsc{Tests}}, year=2020}'
    assert parse(text.encode(), format="bibtex").records[0].title == "Naïve $\\alpha$ Tests"


# --- Through the import service to the database ----------------------------------------------


@pytest.mark.django_db
@fuzz(1)
@given(
    st.sampled_from(SAMPLES),
    st.lists(mutation, min_size=1, max_size=4),
    st.sampled_from(FORMATS),
    st.sampled_from(FILENAMES),
)
def test_mangled_exports_preview_cleanly_and_import_all_or_nothing(
    researcher, sample, mutations, fmt, filename
):
    data = mangle(sample, mutations)
    lines = line_count(data)
    with contextlib.suppress(ImportRefused):
        preview = import_preview(data=data, format=fmt, filename=filename)
        for row in preview.rows:
            assert 1 <= row.line <= lines
            assert row.status in ("new", "duplicate", "error")
            assert row.status != "error" or row.message
        # Whatever the preview calls new must save: the preview is the only validation a
        # researcher sees before confirming, so a database error here would be a bug.
        result = import_commit(data=data, format=fmt, filename=filename, user=researcher)
        assert result.created == len(preview.new)


@pytest.mark.django_db
@fuzz(0.5)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["TI", "AU", "JO", "VL", "IS", "SP", "EP", "DO", "UR", "AB", "KW"]),
            st.one_of(nasty_text, st.text(min_size=25, max_size=400)),
        ),
        max_size=12,
    ),
    st.sampled_from(["2020", "n.d.", "", "1899", "2101", "20201"]),
)
def test_hostile_field_values_are_imported_or_reported_never_a_database_error(
    researcher, fields, year
):
    lines = ["TY  - JOUR", "TI  - A title", f"PY  - {year}"]
    lines += [f"{tag}  - {value}" for tag, value in fields] + ["ER  - "]
    data = "\n".join(lines).encode("utf-8", errors="replace")
    result = import_commit(data=data, format="ris", user=researcher)
    assert result.created + result.duplicates + len(result.errors) == len(result.rows)
