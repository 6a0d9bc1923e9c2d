"""Reference-export parsers: realistic RIS, BibTeX and CSV exports in, records and errors out."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studies.parsers import (
    ParsedRecord,
    ParseError,
    UnknownFormat,
    decode,
    detect_format,
    parse,
    parse_bibtex,
    parse_csv,
    parse_ris,
)


def ris(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def only_record(result) -> ParsedRecord:
    assert result.errors == ()
    assert len(result.records) == 1
    return result.records[0]


# --- RIS, one exporter at a time -------------------------------------------------------------

ZOTERO_RIS = ris(
    "TY  - JOUR",
    "TI  - Effects of personalized learning on mathematics achievement",
    "AU  - Pane, John F.",
    "AU  - Steiner, Elizabeth D.",
    "T2  - Educational Researcher",
    "AB  - We estimate the effects of personalized learning.",
    "DA  - 2019/05/01/",
    "PY  - 2019",
    "DO  - 10.3102/0013189X19851234",
    "DP  - SAGE Journals",
    "VL  - 48",
    "IS  - 5",
    "SP  - 704",
    "EP  - 737",
    "J2  - Educ. Res.",
    "SN  - 0013-189X",
    "UR  - https://doi.org/10.3102/0013189X19851234",
    "Y2  - 2023/01/15/10:00:00",
    "KW  - personalized learning",
    "KW  - mathematics",
    "ER  - ",
    "",
    "TY  - RPRT",
    "TI  - Continued progress: promising evidence on personalized learning",
    "AU  - Pane, John F.",
    "PY  - 2015",
    "M3  - Working Paper",
    "PB  - RAND Corporation",
    "UR  - https://www.rand.org/pubs/research_reports/RR1365.html",
    "ER  - ",
)


def test_zotero_ris_journal_article_maps_every_field():
    result = parse_ris(ZOTERO_RIS)
    assert result.format == "ris"
    assert result.errors == ()
    article = result.records[0]
    assert article == ParsedRecord(
        line=1,
        title="Effects of personalized learning on mathematics achievement",
        authors=("Pane, John F.", "Steiner, Elizabeth D."),
        year=2019,
        venue="Educational Researcher",
        volume="48",
        issue="5",
        pages="704-737",
        doi="10.3102/0013189X19851234",
        url="https://doi.org/10.3102/0013189X19851234",
        abstract="We estimate the effects of personalized learning.",
        publication_type="journal_article",
        keywords=("personalized learning", "mathematics"),
    )


def test_zotero_ris_report_whose_type_is_working_paper_is_a_working_paper():
    report = parse_ris(ZOTERO_RIS).records[1]
    assert report.line == 23
    assert report.publication_type == "working_paper"
    assert report.venue == "RAND Corporation"
    assert report.doi is None


def test_endnote_ris_continuation_lines_add_keywords_and_urls_and_extend_other_fields():
    text = ris(
        "TY  - JOUR",
        "AB  - First paragraph of the abstract.",
        "Second paragraph of the abstract.",
        "AU  - Walkington, Candace A.",
        "DA  - May",
        "IS  - 4",
        "J2  - J Educ Psychol",
        "KW  - context personalization",
        "algebra",
        "story problems",
        "N1  - ",
        "PY  - 2013",
        "SP  - 932-945",
        "ST  - Using adaptive learning technologies",
        "T2  - Journal of Educational Psychology",
        "TI  - Using adaptive learning technologies to personalize instruction:",
        "The impact of relevant contexts on performance",
        "UR  - https://psycnet.apa.org/record/2013-28453-001",
        "https://doi.org/10.1037/a0031882",
        "VL  - 105",
        "ER  - ",
    )
    record = only_record(parse_ris(text))
    assert record.title == (
        "Using adaptive learning technologies to personalize instruction: "
        "The impact of relevant contexts on performance"
    )
    assert record.abstract == "First paragraph of the abstract.\nSecond paragraph of the abstract."
    assert record.keywords == ("context personalization", "algebra", "story problems")
    assert record.url == "https://psycnet.apa.org/record/2013-28453-001"
    assert record.doi == "https://doi.org/10.1037/a0031882"
    assert record.pages == "932-945"
    assert record.year == 2013
    assert record.venue == "Journal of Educational Psychology"


OVID_RIS = ris(
    "1. ",
    "TY  - JOUR",
    "DB  - Embase",
    "AN  - 627384950",
    "T1  - Adaptive learning technologies in K-12 classrooms",
    "A1  - Smith J.",
    "A1  - Jones K.L.",
    "Y1  - 2019//",
    "N2  - Adaptive learning technologies are widely used.",
    "KW  - *adaptive learning",
    "KW  - child",
    "JF  - Computers and Education",
    "JA  - Comput. Educ.",
    "VL  - 140",
    "SP  - 103599",
    "M3  - Article",
    "UR  - http://ovidsp.ovid.com/ovidweb.cgi?T=JS&PAGE=reference&D=emed20&AN=627384950",
    "L2  - https://doi.org/10.1016/j.compedu.2019.103599",
    "ER  - ",
    "",
    "",
    "2. ",
    "TY  - CPAPER",
    "T1  - Tutoring at scale",
    "A1  - Lee A.",
    "Y1  - 2018///",
    "ER  - ",
)


def test_ovid_numbered_records_with_junk_lines_between_them_all_parse():
    result = parse_ris(OVID_RIS)
    assert result.errors == ()
    first, second = result.records
    assert (first.line, second.line) == (2, 23)
    assert first.authors == ("Smith J.", "Jones K.L.")
    assert first.venue == "Computers and Education"
    assert first.year == 2019
    assert first.pages == "103599"
    assert first.doi == "https://doi.org/10.1016/j.compedu.2019.103599"
    assert first.abstract == "Adaptive learning technologies are widely used."
    assert first.keywords == ("*adaptive learning", "child")
    assert second.publication_type == "conference_paper"
    assert second.year == 2018


def test_ebsco_psycinfo_header_lines_before_the_first_record_are_ignored():
    text = ris(
        "Provider: EBSCOhost",
        "Database: APA PsycInfo",
        'Content: text/plain; charset="UTF-8"',
        "",
        "",
        "TY  - JOUR",
        "AU  - García, María",
        "AU  - Müller, Jörg",
        "TI  - Teacher beliefs about personalized learning",
        "JO  - Journal of Educational Psychology",
        "JA  - J Educ Psychol",
        "Y1  - 2020/03//",
        "VL  - 112",
        "IS  - 3",
        "SP  - 455",
        "EP  - 470",
        "N2  - Teachers were surveyed.",
        "KW  - personalized learning",
        "KW  - teacher attitudes",
        "M3  - Article",
        "DO  - 10.1037/edu0000412",
        "UR  - https://search.ebscohost.com/login.aspx?direct=true&db=pdh&AN=2020-12345-001",
        "DP  - EBSCOhost",
        "DB  - pdh",
        "ER  - ",
    )
    record = only_record(parse(text.encode(), filename="delivery.txt"))
    assert record.line == 6
    assert record.authors == ("García, María", "Müller, Jörg")
    assert record.venue == "Journal of Educational Psychology"
    assert (record.year, record.volume, record.issue, record.pages) == (2020, "112", "3", "455-470")
    assert record.doi == "10.1037/edu0000412"


def test_pubmed_style_ris_writes_out_abbreviated_pages_and_finds_the_doi_in_m3():
    text = ris(
        "TY  - JOUR",
        "ID  - 31234567",
        "T1  - Screen time and reading in children",
        "A1  - Hutton, J S",
        "Y1  - 2019/06/01",
        "N2  - BACKGROUND: Screen use is rising.",
        "JF  - Pediatrics",
        "JO  - Pediatrics",
        "SP  - 704-37",
        "VL  - 143",
        "IS  - 6",
        "M3  - 10.1542/peds.2019-0001",
        "ER  - ",
    )
    record = only_record(parse_ris(text))
    assert record.pages == "704-737"
    assert record.doi == "10.1542/peds.2019-0001"
    assert record.year == 2019


def test_pubmed_medline_nbib_export_parses_as_ris():
    text = ris(
        "",
        "PMID- 31234567",
        "OWN - NLM",
        "DP  - 2019 Jun",
        "TI  - Screen time and reading in children: a longitudinal study of",
        "      preschool-aged children.",
        "PG  - 704-37",
        "LID - 10.1542/peds.2019-0001 [doi]",
        "AB  - BACKGROUND: Screen use is rising.",
        "FAU - Hutton, John S",
        "AU  - Hutton JS",
        "FAU - Dudley, Jonathan",
        "AU  - Dudley J",
        "PT  - Journal Article",
        "TA  - Pediatrics",
        "JT  - Pediatrics",
        "VI  - 143",
        "IP  - 6",
        "OT  - literacy",
        "",
        "PMID- 30000001",
        "TI  - A second article.",
        "DP  - 2018",
    )
    assert detect_format(text.encode(), "pubmed-export.nbib") == "ris"
    result = parse(text.encode())
    assert result.errors == ()
    first, second = result.records
    assert first.line == 2
    assert first.title.endswith("study of preschool-aged children.")
    assert first.authors == ("Hutton, John S", "Dudley, Jonathan")
    assert (first.year, first.venue, first.pages) == (2019, "Pediatrics", "704-737")
    assert first.doi == "10.1542/peds.2019-0001"
    assert first.url == "https://pubmed.ncbi.nlm.nih.gov/31234567/"
    assert first.keywords == ("literacy",)
    assert first.publication_type == "journal_article"
    assert (second.line, second.year) == (21, 2018)


def test_proquest_dissertation_and_eric_report_get_their_types_and_publishers():
    text = ris(
        "TY  - THES",
        "T1  - Personalized learning in rural schools",
        "AU  - Doe, Jane",
        "Y1  - 2018",
        "PB  - ProQuest Dissertations & Theses",
        "UR  - https://www.proquest.com/dissertations-theses/personalized/docview/2071234567/",
        "ER  - ",
        "TY  - RPRT",
        "AU  - Pane, John F.",
        "TI  - Informing Progress: Insights on Personalized Learning Implementation and Effects",
        "PY  - 2017",
        "PB  - RAND Corporation",
        "KW  - Individualized Instruction",
        "UR  - https://eric.ed.gov/?id=ED577771",
        "DB  - ERIC",
        "ER  - ",
    )
    thesis, report = parse_ris(text).records
    assert (thesis.publication_type, thesis.venue) == (
        "dissertation",
        "ProQuest Dissertations & Theses",
    )
    assert (report.publication_type, report.venue, report.url) == (
        "report",
        "RAND Corporation",
        "https://eric.ed.gov/?id=ED577771",
    )


def test_web_of_science_ris_keeps_the_capitalised_journal_name():
    text = ris(
        "TY  - JOUR",
        "AU  - Smith, John",
        "TI  - Learning analytics dashboards",
        "T2  - COMPUTERS & EDUCATION",
        "J2  - COMPUT EDUC",
        "M3  - Article",
        "PY  - 2021",
        "VL  - 163",
        "DO  - 10.1016/j.compedu.2020.104097",
        "AN  - WOS:000612345600001",
        "ER  - ",
    )
    record = only_record(parse_ris(text))
    assert record.venue == "COMPUTERS & EDUCATION"
    assert record.doi == "10.1016/j.compedu.2020.104097"


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("JOUR", "journal_article"),
        ("RPRT", "report"),
        ("BOOK", "book"),
        ("CHAP", "book_chapter"),
        ("THES", "dissertation"),
        ("CONF", "conference_paper"),
        ("CPAPER", "conference_paper"),
        ("ELEC", "web_page"),
        ("WEB", "web_page"),
        ("GEN", "other"),
        ("NEWS", "other"),
    ],
)
def test_ris_type_codes_map_to_publication_types(code, kind):
    record = only_record(parse_ris(ris(f"TY  - {code}", "TI  - A title", "ER  - ")))
    assert record.publication_type == kind


def test_ris_venue_prefers_the_full_journal_name_over_abbreviations():
    text = ris("TY  - JOUR", "TI  - T", "JA  - J. Ed. Psy.", "J2  - JEP", "JO  - J Ed Psy")
    assert only_record(parse_ris(text)).venue == "J Ed Psy"
    text = ris("TY  - JOUR", "TI  - T", "JO  - J Ed Psy", "JF  - Journal of Ed Psych")
    assert only_record(parse_ris(text)).venue == "Journal of Ed Psych"


def test_ris_chapter_venue_is_the_book_title_from_bt():
    text = ris("TY  - CHAP", "TI  - A chapter", "A2  - Editor, Ed", "BT  - Handbook of learning")
    record = only_record(parse_ris(text))
    assert record.venue == "Handbook of learning"
    assert record.authors == ()


@pytest.mark.parametrize("raw", ["2019//", "2019/05/01/", "2019///", "2019", "May 2019", "c2019"])
def test_ris_year_is_the_first_plausible_four_digit_number(raw):
    record = only_record(parse_ris(ris("TY  - JOUR", "TI  - T", f"PY  - {raw}", "ER  - ")))
    assert record.year == 2019


def test_ris_year_falls_back_from_py_to_y1_to_da():
    assert only_record(parse_ris(ris("TY  - JOUR", "TI  - T", "DA  - 2017/02/03/"))).year == 2017


def test_ris_record_without_any_year_is_kept_with_year_none():
    assert only_record(parse_ris(ris("TY  - JOUR", "TI  - T", "PY  - ", "ER  - "))).year is None


def test_ris_in_press_and_no_date_mean_no_year_rather_than_a_bad_year():
    for raw in ("in press", "n.d.", "Forthcoming"):
        assert only_record(parse_ris(ris("TY  - JOUR", "TI  - T", f"PY  - {raw}"))).year is None


def test_ris_year_field_without_a_year_is_an_error_naming_the_value():
    text = ris("TY  - JOUR", "TI  - Good", "ER  - ", "TY  - JOUR", "TI  - Bad", "PY  - 20x9")
    result = parse_ris(text)
    assert [r.title for r in result.records] == ["Good"]
    assert result.errors == (ParseError(line=4, message="year '20x9' is not a year"),)


def test_ris_record_without_title_is_reported_with_its_line_and_the_others_still_parse():
    text = ris(
        "TY  - JOUR",
        "TI  - First",
        "ER  - ",
        "",
        "TY  - JOUR",
        "AU  - Nameless, Record",
        "PY  - 2020",
        "ER  - ",
        "TY  - JOUR",
        "T1  - Third",
        "ER  - ",
    )
    result = parse_ris(text)
    assert [r.title for r in result.records] == ["First", "Third"]
    assert result.errors == (ParseError(line=5, message="record has no title"),)


def test_ris_last_record_without_er_line_is_accepted():
    text = "TY  - JOUR\nTI  - First\nER  - \nTY  - BOOK\nTI  - Last\nPY  - 2001"
    result = parse_ris(text)
    assert [(r.title, r.line) for r in result.records] == [("First", 1), ("Last", 4)]


def test_ris_record_without_er_is_closed_by_the_next_ty_line():
    text = ris("TY  - JOUR", "TI  - One", "TY  - JOUR", "TI  - Two", "ER  - ")
    assert [r.title for r in parse_ris(text).records] == ["One", "Two"]


def test_ris_tolerates_one_space_before_the_dash_and_empty_values():
    text = ris("TY - JOUR", "TI - Spaced oddly", "AB  -", "VL  -", "PY - 2012", "ER -")
    record = only_record(parse_ris(text))
    assert (record.title, record.year, record.abstract, record.volume) == (
        "Spaced oddly",
        2012,
        "",
        "",
    )


def test_a_record_with_three_hundred_authors_keeps_them_all_in_order():
    authors = [f"Author{i:03d}, A." for i in range(300)]
    text = ris("TY  - JOUR", "TI  - Big science", *(f"AU  - {a}" for a in authors), "ER  - ")
    assert only_record(parse_ris(text)).authors == tuple(authors)


def test_text_with_no_ris_tags_reports_that_no_records_were_found():
    result = parse_ris("just some prose\nwithout tags\n")
    assert result.records == ()
    assert result.errors[0].line == 1
    assert "no RIS records" in result.errors[0].message


# --- Encodings and line ends -----------------------------------------------------------------


def test_utf8_bom_is_stripped_so_the_first_ris_record_is_not_lost():
    data = b"\xef\xbb\xbf" + "TY  - JOUR\nTI  - Première étude\nER  - \n".encode()
    assert only_record(parse(data)).title == "Première étude"


def test_crlf_line_ends_give_the_same_records_and_line_numbers():
    crlf = ZOTERO_RIS.replace("\n", "\r\n").encode()
    assert parse(crlf) == parse(ZOTERO_RIS.encode())


def test_old_mac_cr_line_ends_are_normalised():
    assert decode(b"TY  - JOUR\rTI  - x\r") == "TY  - JOUR\nTI  - x\n"


def test_latin1_and_cp1252_files_are_decoded():
    data = "TY  - JOUR\nTI  - “Smart” quotes in a Ferdinand Tönnies study\nER  - \n"
    assert only_record(parse(data.encode("cp1252"))).title == (
        "“Smart” quotes in a Ferdinand Tönnies study"
    )
    assert decode("Tönnies".encode("latin-1")) == "Tönnies"


def test_utf16_exports_with_a_bom_are_decoded():
    data = "TY  - JOUR\r\nTI  - Größe\r\nER  - \r\n".encode("utf-16")
    assert only_record(parse(data)).title == "Größe"


def test_concatenated_exports_with_a_bom_in_the_middle_still_parse():
    one = "\ufeffTY  - JOUR\nTI  - One\nER  - \n".encode()
    assert [r.title for r in parse(one + one).records] == ["One", "One"]


def test_empty_file_gives_one_error_on_line_one():
    for data in (b"", b"\xef\xbb\xbf", b"  \r\n\n"):
        result = parse(data)
        assert result.records == ()
        assert result.errors == (ParseError(line=1, message="the file is empty"),)
    assert parse(b"", filename="refs.bib").format == "bibtex"


# --- BibTeX ----------------------------------------------------------------------------------

ZOTERO_BIB = r"""
@article{garcia_teacher_2020,
	title = {Teacher beliefs about {Personalized} {Learning} in {M}{\'e}xico},
	volume = {112},
	issn = {0022-0663},
	url = {https://doi.org/10.1037/edu0000412},
	doi = {10.1037/edu0000412},
	number = {3},
	journal = {Journal of Educational Psychology},
	author = {Garc{\'i}a, Mar{\'i}a and M{\"u}ller, J{\"o}rg and {\O}sterg{\aa}rd, S{\o}ren},
	year = {2020},
	keywords = {personalized learning, teacher attitudes},
	pages = {455--470},
	abstract = {Teachers in 20\% of schools \& districts were surveyed.},
}

@techreport{pane_continued_2015,
	address = {Santa Monica, CA},
	type = {Working {Paper}},
	title = {Continued {Progress}},
	number = {WR-1365},
	institution = {RAND Corporation},
	author = {Pane, John F.},
	year = {2015},
}
"""

MENDELEY_BIB = r"""Automatically generated by Mendeley Desktop 1.19.8

@book{Tomlinson2014,
author = {Tomlinson, Carol Ann},
edition = {2},
isbn = {9781416618607},
publisher = {ASCD},
title = {{The Differentiated Classroom: Responding to the Needs of All Learners}},
year = {2014}
}
@inproceedings{Baker2010,
author = {Baker, Ryan S.J.d. and D'Mello, Sidney K.},
booktitle = {Proceedings of the 10th International Conference on Intelligent Tutoring Systems},
doi = {10.1007/978-3-642-13388-6_9},
pages = {245--254},
title = {{Better to be frustrated than bored}},
url = {http://link.springer.com/10.1007/978-3-642-13388-6{\_}9},
year = {2010}
}
"""


def test_zotero_bibtex_decodes_latex_accents_and_maps_fields():
    result = parse(ZOTERO_BIB.encode(), filename="My Library.bib")
    assert result.format == "bibtex"
    assert result.errors == ()
    article, report = result.records
    assert article.line == 2
    assert article.title == "Teacher beliefs about Personalized Learning in México"
    assert article.authors == ("García, María", "Müller, Jörg", "Østergård, Søren")
    assert (article.year, article.volume, article.issue, article.pages) == (
        2020,
        "112",
        "3",
        "455-470",
    )
    assert article.venue == "Journal of Educational Psychology"
    assert article.doi == "10.1037/edu0000412"
    assert article.abstract == "Teachers in 20% of schools & districts were surveyed."
    assert article.keywords == ("personalized learning", "teacher attitudes")
    assert article.publication_type == "journal_article"
    assert (report.line, report.publication_type, report.venue, report.issue) == (
        17,
        "working_paper",
        "RAND Corporation",
        "",
    )


def test_mendeley_bibtex_double_braced_titles_and_escaped_urls():
    book, paper = parse_bibtex(MENDELEY_BIB).records
    assert book.title == "The Differentiated Classroom: Responding to the Needs of All Learners"
    assert (book.publication_type, book.venue, book.line) == ("book", "ASCD", 3)
    assert paper.publication_type == "conference_paper"
    assert paper.venue.startswith("Proceedings of the 10th")
    assert paper.authors == ("Baker, Ryan S.J.d.", "D'Mello, Sidney K.")
    assert paper.url == "http://link.springer.com/10.1007/978-3-642-13388-6_9"
    assert paper.doi == "10.1007/978-3-642-13388-6_9"
    assert paper.pages == "245-254"


def test_malformed_bibtex_entry_is_reported_with_its_line_while_the_good_ones_parse():
    text = (
        "@article{good1,\n"
        "  title = {First},\n"
        "  year = {2019},\n"
        "}\n"
        "\n"
        "@article{broken,\n"
        "  title = {Never closed,\n"
        "  year = {2020},\n"
        "\n"
        "@article{good2, title = {Second}, year = 2021}\n"
    )
    result = parse_bibtex(text)
    assert [(r.title, r.line) for r in result.records] == [("First", 1), ("Second", 10)]
    assert len(result.errors) == 1
    assert result.errors[0].line == 6
    assert result.errors[0].message.startswith("unterminated BibTeX entry 'broken'")


def test_bibtex_entry_missing_a_comma_between_fields_is_malformed():
    result = parse_bibtex("@article{k,\n title = {A}\n year = {2000}\n}\n")
    assert result.records == ()
    assert result.errors[0].line == 1
    assert result.errors[0].message.startswith("malformed BibTeX entry 'k'")


@pytest.mark.parametrize(
    ("entry_type", "kind"),
    [
        ("article", "journal_article"),
        ("techreport", "report"),
        ("report", "report"),
        ("book", "book"),
        ("incollection", "book_chapter"),
        ("inproceedings", "conference_paper"),
        ("phdthesis", "dissertation"),
        ("mastersthesis", "dissertation"),
        ("online", "web_page"),
        ("misc", "other"),
    ],
)
def test_bibtex_entry_types_map_to_publication_types(entry_type, kind):
    record = only_record(parse_bibtex(f"@{entry_type}{{key, title = {{T}}}}"))
    assert record.publication_type == kind


def test_bibtex_venue_falls_back_to_booktitle_then_publisher():
    chapter = "@incollection{c, title={Ch}, booktitle={Handbook}, publisher={Routledge}}"
    assert only_record(parse_bibtex(chapter)).venue == "Handbook"


def test_bibtex_repeated_citation_keys_and_fields_do_not_lose_references():
    text = (
        "@article{same, title = {One}, year = 2001}\n"
        "@article{same, title = {Two}, year = 2002}\n"
        "@article{other, title = {Three}, title = {Three again}}\n"
    )
    result = parse_bibtex(text)
    assert result.errors == ()
    assert [(r.title, r.line) for r in result.records] == [("One", 1), ("Two", 2), ("Three", 3)]


def test_bibtex_string_macros_and_uppercase_field_names_are_resolved():
    text = '@string{jep = "Journal of Educational Psychology"}\n@ARTICLE{k, TITLE={T}, JOURNAL=jep}'
    assert only_record(parse_bibtex(text)).venue == "Journal of Educational Psychology"


def test_bibtex_biblatex_date_and_journaltitle_are_understood():
    text = "@article{k, title={T}, date={2018-04-01}, journaltitle={AERA Open}}"
    record = only_record(parse_bibtex(text))
    assert (record.year, record.venue) == (2018, "AERA Open")


def test_bibtex_bad_year_is_an_error_naming_the_value():
    result = parse_bibtex("\n@article{k, title={T}, year={20x9}}")
    assert result.errors == (ParseError(line=2, message="year '20x9' is not a year"),)


def test_bibtex_and_others_is_not_an_author_and_wrapped_abstracts_are_joined():
    text = "@article{k, title={T}, author={Doe, Ann and others},\n abstract={One\n  line.}}"
    record = only_record(parse_bibtex(text))
    assert (record.authors, record.abstract) == (("Doe, Ann",), "One line.")


def test_bibtex_with_no_entries_reports_that_none_were_found():
    result = parse_bibtex("% nothing but a comment\n")
    assert result.records == ()
    assert "no BibTeX entries" in result.errors[0].message


# --- CSV -------------------------------------------------------------------------------------

SCOPUS_CSV = (
    "\ufeff"
    '"Authors","Author full names","Author(s) ID","Title","Year","Source title","Volume",'
    '"Issue","Art. No.","Page start","Page end","Page count","Cited by","DOI","Link",'
    '"Abstract","Author Keywords","Index Keywords","Document Type","Publication Stage",'
    '"Open Access","Source","EID"\n'
    '"Xie H.; Chu H.-C.; Hwang G.-J.","Xie, Haoran (1); Chu, Hui-Chun (2); Hwang, G.-J. (3)",'
    '"1;2;3","Trends and development in technology-enhanced adaptive/personalized learning",'
    '"2019","Computers and Education","140","","103599","","","","120",'
    '"10.1016/j.compedu.2019.103599","https://www.scopus.com/inward/record.uri?eid=2-s2.0-1",'
    '"Adaptive learning is reviewed.","Adaptive learning; Personalized learning",'
    '"Learning systems","Review","Final","","Scopus","2-s2.0-1"\n'
    '"Walkington C.","Walkington, Candace (4)","4","Using adaptive learning technologies",'
    '"2013","Journal of Educational Psychology","105","4","","932","945","14","200",'
    '"10.1037/a0031882","https://www.scopus.com/inward/record.uri?eid=2-s2.0-2",'
    '"[No abstract available]","","","Article","Final","","Scopus","2-s2.0-2"\n'
)


def test_scopus_csv_maps_its_headers():
    result = parse(SCOPUS_CSV.encode("utf-8"), filename="scopus.csv")
    assert result.format == "csv"
    assert result.errors == ()
    review, article = result.records
    assert review.line == 2
    assert review.authors == ("Xie H.", "Chu H.-C.", "Hwang G.-J.")
    assert review.venue == "Computers and Education"
    assert review.publication_type == "journal_article"
    assert review.keywords == ("Adaptive learning", "Personalized learning")
    assert review.url.startswith("https://www.scopus.com/")
    assert (article.pages, article.issue, article.abstract) == ("932-945", "4", "")
    assert article.doi == "10.1037/a0031882"


def test_older_scopus_csv_authors_separated_by_commas_are_split():
    text = 'Authors,Title,Year\n"Ahn J., Kim S.-H., Lee K.",T,2015\n'
    assert only_record(parse_csv(text)).authors == ("Ahn J.", "Kim S.-H.", "Lee K.")


def test_web_of_science_tab_delimited_txt_is_detected_as_csv():
    text = (
        "PT\tAU\tAF\tTI\tSO\tDT\tDE\tAB\tPY\tVL\tIS\tBP\tEP\tDI\tUT\n"
        "J\tSmith, J; Doe, A\tSmith, John; Doe, Ann\tLearning analytics dashboards\t"
        "COMPUTERS & EDUCATION\tArticle\tdashboards; feedback\tWe built one.\t2021\t163\t\t"
        "1\t12\t10.1016/j.compedu.2020.104097\tWOS:000612345600001\n"
    )
    assert detect_format(text.encode(), "savedrecs.txt") == "csv"
    record = only_record(parse(text.encode(), filename="savedrecs.txt"))
    assert record.authors == ("Smith, John", "Doe, Ann")
    assert (record.venue, record.year, record.pages) == ("COMPUTERS & EDUCATION", 2021, "1-12")
    assert record.keywords == ("dashboards", "feedback")


def test_zotero_csv_uses_item_type_not_the_type_column():
    text = (
        '"Key","Item Type","Publication Year","Author","Title","Publication Title","DOI",'
        '"Url","Abstract Note","Pages","Issue","Volume","Type","Manual Tags"\n'
        '"ABCD1234","thesis","2018","Doe, Jane","Rural schools","","","","","","","",'
        '"PhD Thesis","rural; schools"\n'
    )
    record = only_record(parse_csv(text))
    assert (record.publication_type, record.authors, record.keywords) == (
        "dissertation",
        ("Doe, Jane",),
        ("rural", "schools"),
    )


def test_excel_semicolon_csv_with_sep_line_is_read():
    text = "sep=;\nTitle;Authors;Year;Journal\nÉtude;Dupont, A.;2019;Revue\n"
    record = only_record(parse(text.encode("cp1252")))
    assert (record.line, record.title, record.venue) == (3, "Étude", "Revue")


def test_csv_row_without_title_is_reported_with_its_physical_line():
    text = (
        "Title,Authors,Year,Abstract\n"
        'First,"Smith, J.",2019,"An abstract\nthat spans\nthree lines"\n'
        ',"Doe, A.",2020,No title here\n'
        "Third,,2021,\n"
    )
    result = parse_csv(text)
    assert [(r.title, r.line) for r in result.records] == [("First", 2), ("Third", 6)]
    assert result.records[0].abstract == "An abstract\nthat spans\nthree lines"
    assert result.errors == (ParseError(line=5, message="record has no title"),)


def test_csv_non_numeric_year_is_an_error_naming_the_value():
    result = parse_csv("title,year\nA,2019\nB,twenty\nC,\n")
    assert [(r.title, r.year) for r in result.records] == [("A", 2019), ("C", None)]
    assert result.errors == (ParseError(line=3, message="year 'twenty' is not a year"),)


def test_csv_without_a_title_header_is_one_clear_error():
    result = parse_csv("\n\nfoo,bar\n1,2\n")
    assert result.records == ()
    assert result.errors[0].line == 3
    assert "header with a Title column" in result.errors[0].message


def test_csv_header_names_are_case_insensitive_and_pages_can_be_one_column():
    text = "TITLE,AUTHOR,Publication Year,VENUE,Pages,Type\nT,A;B,2010,V,3--9,Conference Paper\n"
    record = only_record(parse_csv(text))
    assert (record.authors, record.year, record.venue, record.pages) == (
        ("A", "B"),
        2010,
        "V",
        "3-9",
    )
    assert record.publication_type == "conference_paper"


# --- Format detection ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "expected"),
    [("a.ris", "ris"), ("A.RIS", "ris"), ("b.bib", "bibtex"), ("c.csv", "csv"), ("d.txt", "ris")],
)
def test_detect_format_trusts_the_extension_first(filename, expected):
    assert detect_format(b"whatever", filename) == expected


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (ZOTERO_RIS, "ris"),
        (ZOTERO_BIB, "bibtex"),
        (MENDELEY_BIB, "bibtex"),
        (SCOPUS_CSV, "csv"),
        ("T1  - Untyped\nAU  - Someone\nER  - \n", "ris"),
    ],
)
def test_detect_format_sniffs_the_content_without_an_extension(content, expected):
    assert detect_format(content.encode(), "export") == expected


def test_undetectable_content_raises_unknown_format_with_a_clear_message():
    with pytest.raises(UnknownFormat, match="RIS, BibTeX or CSV"):
        parse(b"hello world", filename="notes.dat")
    with pytest.raises(UnknownFormat, match="EndNote tagged"):
        detect_format(b"%0 Journal Article\n%T A title\n", "refs.enw")
    with pytest.raises(UnknownFormat, match="Excel"):
        detect_format(b"PK\x03\x04rest-of-zip", "refs.xlsx")


def test_an_explicit_format_overrides_detection_and_must_be_known():
    assert parse(ZOTERO_RIS.encode(), format="RIS", filename="x.csv").format == "ris"
    with pytest.raises(ValueError, match="Unknown format"):
        parse(b"x", format="endnote")


# --- Robustness ------------------------------------------------------------------------------


def assert_well_formed(result, text_lines: int) -> None:
    assert result.format in ("ris", "bibtex", "csv")
    for item in result.records + result.errors:
        assert 1 <= item.line <= max(text_lines, 1)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.sampled_from([None, "ris", "bibtex", "csv"]))
def test_parse_never_raises_on_arbitrary_bytes(data, fmt):
    try:
        result = parse(data, format=fmt)
    except UnknownFormat:
        assert fmt is None
        return
    assert_well_formed(result, decode(data).count("\n") + 1)


TAGS = ["TY", "ER", "AU", "A1", "TI", "T1", "PY", "Y1", "DA", "KW", "UR", "DO", "SP", "EP", "AB"]
ris_line = st.one_of(
    st.builds(
        lambda tag, sep, value: f"{tag}{sep}{value}",
        st.sampled_from(TAGS),
        st.sampled_from(["  - ", " - ", "  -", " -", "-"]),
        st.text(max_size=20),
    ),
    st.text(max_size=20),
    st.sampled_from(["", "1.", "<2>", "PMID- 1", "      cont"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(ris_line, max_size=20), st.sampled_from(["\n", "\r\n"]))
def test_parse_never_raises_on_ris_shaped_lines(lines, newline):
    data = newline.join(lines).encode("utf-8", errors="surrogatepass")
    result = parse(data, format="ris")
    assert_well_formed(result, decode(data).count("\n") + 1)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet='@{}()=,"\\%#~$ \narticle title year author', max_size=200))
def test_parse_never_raises_on_bibtex_shaped_text(text):
    data = text.encode()
    result = parse(data, format="bibtex")
    assert_well_formed(result, decode(data).count("\n") + 1)
