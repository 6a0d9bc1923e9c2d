"""Imports of reference-manager files: one service behind the command, the API and the page.

Each sample below is written the way its source really exports (tags, order, encodings, junk);
the tests assert what a researcher would check: how many records, which are new, duplicates or
errors (with their line), and that titles, authors in order, years, venues, DOIs, abstracts and
keywords arrive intact.
"""

import codecs
import contextlib
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from studies import imports, services
from studies.constants import ReviewStatus
from studies.exports import to_bibtex, to_csv, to_ris
from studies.imports import ImportFailed, ImportRefused, import_commit, import_preview
from studies.models import Study
from tests.factories import StudyFactory, UserFactory

pytestmark = pytest.mark.django_db


def lines(*rows: str, newline: str = "\n") -> str:
    return newline.join(rows) + newline


def statuses(preview) -> list[tuple[int, str]]:
    return [(row.line, row.status) for row in preview.rows]


def record_at(preview, line: int):
    return next(row.record for row in preview.rows if row.line == line)


# --- One sample per source ---------------------------------------------------------------------

ZOTERO_RIS = lines(
    "TY  - JOUR",
    "TI  - Effects of personalized learning on mathematics achievement",
    "AU  - Pane, John F.",
    "AU  - Steiner, Elizabeth D.",
    "AU  - Baird, Matthew D.",
    "T2  - Educational Researcher",
    "AB  - We estimate the effects of personalized learning on achievement in 62 schools.",
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
    "KW  - personalized learning",
    "KW  - mathematics",
    "ER  - ",
    "",
    "TY  - RPRT",
    "TI  - Continued progress: promising evidence on personalized learning",
    "AU  - Pane, John F.",
    "AU  - Steiner, Elizabeth D.",
    "PY  - 2015",
    "M3  - Working Paper",
    "PB  - RAND Corporation",
    "UR  - https://www.rand.org/pubs/research_reports/RR1365.html",
    "ER  - ",
    "",
    "TY  - BOOK",
    "TI  - The differentiated classroom: responding to the needs of all learners",
    "AU  - Tomlinson, Carol Ann",
    "DA  - 2014///",
    "PY  - 2014",
    "PB  - ASCD",
    "ER  - ",
)


def test_zotero_ris_maps_every_field_and_all_records_are_new():
    preview = import_preview(data=ZOTERO_RIS.encode(), filename="My Library.ris")
    assert preview.format == "ris"
    assert statuses(preview) == [(1, "new"), (23, "new"), (33, "new")]
    article = record_at(preview, 1)
    assert article.title == "Effects of personalized learning on mathematics achievement"
    assert article.authors == ("Pane, John F.", "Steiner, Elizabeth D.", "Baird, Matthew D.")
    assert (article.year, article.venue) == (2019, "Educational Researcher")
    assert article.abstract.startswith("We estimate the effects")
    assert article.keywords == ("personalized learning", "mathematics")
    assert preview.rows[0].doi == "10.3102/0013189x19851234"
    assert record_at(preview, 23).publication_type == "working_paper"
    assert record_at(preview, 33).year == 2014


def test_a_confirmed_zotero_import_stores_the_mapped_fields_on_drafts_owned_by_the_user(
    researcher,
):
    result = import_commit(data=ZOTERO_RIS.encode(), user=researcher, filename="My Library.ris")
    assert result.created == 3 and result.duplicates == 0 and result.errors == ()
    article = Study.objects.get(pk=result.study_ids[0])
    assert article.title == "Effects of personalized learning on mathematics achievement"
    assert article.authors == ["Pane, John F.", "Steiner, Elizabeth D.", "Baird, Matthew D."]
    assert (article.year, article.venue, article.volume, article.issue) == (
        2019,
        "Educational Researcher",
        "48",
        "5",
    )
    assert (article.pages, article.doi) == ("704-737", "10.3102/0013189x19851234")
    assert article.abstract.startswith("We estimate the effects")
    assert article.status == ReviewStatus.DRAFT
    assert article.created_by == researcher and article.updated_by == researcher
    assert article.source_note == "Imported from My Library.ris (RIS), line 1"
    history = article.history.get()
    assert history.history_user == researcher and history.history_type == "+"


# EndNote on Windows: a UTF-8 BOM, CRLF line ends, keywords and URLs one per continuation line,
# a title wrapped over two lines, a conference paper with little more than a title and a year,
# and an "in press" article with no year.
ENDNOTE_RIS = codecs.BOM_UTF8 + lines(
    "TY  - JOUR",
    "AB  - Students solved story problems matched to their out-of-school interests.",
    "Performance improved on the hardest problems.",
    "AU  - Walkington, Candace A.",
    "AU  - Bernacki, Matthew L.",
    "DA  - May",
    "DO  - 10.1037/a0031882",
    "IS  - 4",
    "J2  - J Educ Psychol",
    "KW  - context personalization",
    "algebra",
    "story problems",
    "N1  - ",
    "PY  - 2013",
    "SN  - 0022-0663",
    "SP  - 932-945",
    "ST  - Using adaptive learning technologies",
    "T2  - Journal of Educational Psychology",
    "TI  - Using adaptive learning technologies to personalize instruction:",
    "The impact of relevant contexts on performance",
    "UR  - https://psycnet.apa.org/record/2013-28453-001",
    "https://doi.org/10.1037/a0031882",
    "VL  - 105",
    "ID  - 1234",
    "ER  - ",
    "",
    "",
    "TY  - CONF",
    "AU  - Baker, Ryan S.",
    "PY  - 2010",
    "TI  - Mining data for student models",
    "ID  - 1235",
    "ER  - ",
    "",
    "",
    "TY  - JOUR",
    "AU  - Lee, Kim",
    "PY  - in press",
    "TI  - Learner agency in blended classrooms",
    "T2  - Computers & Education",
    "ID  - 1236",
    "ER  - ",
    newline="\r\n",
).encode("utf-8")


def test_endnote_ris_with_bom_and_crlf_keeps_line_numbers_and_reports_the_record_without_year():
    preview = import_preview(data=ENDNOTE_RIS, filename="EndNote Export.txt")
    assert statuses(preview) == [(1, "new"), (28, "new"), (36, "error")]
    article = record_at(preview, 1)
    assert article.title == (
        "Using adaptive learning technologies to personalize instruction: "
        "The impact of relevant contexts on performance"
    )
    assert article.authors == ("Walkington, Candace A.", "Bernacki, Matthew L.")
    assert (article.year, article.venue, article.pages) == (
        2013,
        "Journal of Educational Psychology",
        "932-945",
    )
    assert article.abstract == (
        "Students solved story problems matched to their out-of-school interests.\n"
        "Performance improved on the hardest problems."
    )
    assert article.keywords == ("context personalization", "algebra", "story problems")
    assert preview.rows[0].doi == "10.1037/a0031882"
    sparse = record_at(preview, 28)
    assert (sparse.venue, sparse.abstract, sparse.publication_type) == ("", "", "conference_paper")
    assert preview.rows[1].doi is None
    assert [(e.line, e.message) for e in preview.errors] == [
        (36, "the record has no year; a study needs its publication year")
    ]


# Mendeley Desktop's RIS: JF for the journal, DOI given as a resolver URL, and its last record
# closed by the end of the file rather than an ER line.
MENDELEY_RIS = lines(
    "TY  - JOUR",
    "AU  - Bernacki, Matthew L.",
    "AU  - Walkington, Candace",
    "TI  - The role of situational interest in personalized learning",
    "JF  - Journal of Educational Psychology",
    "PY  - 2018",
    "VL  - 110",
    "IS  - 6",
    "SP  - 864",
    "EP  - 881",
    "DO  - https://doi.org/10.1037/EDU0000250",
    "N2  - Interest was measured during problem solving.",
    "KW  - interest",
    "KW  - personalization",
    "ER  - ",
    "TY  - JOUR",
    "AU  - Kulik, James A.",
    "AU  - Fletcher, J. D.",
    "TI  - Effectiveness of intelligent tutoring systems: a meta-analytic review",
    "JF  - Review of Educational Research",
    "PY  - 2016",
    "DO  - http://dx.doi.org/10.3102/0034654315581420",
    "AB  - Fifty evaluations were reviewed.",
)


def test_mendeley_ris_reads_doi_urls_and_a_last_record_without_er():
    preview = import_preview(data=MENDELEY_RIS.encode(), filename="mendeley.ris")
    assert statuses(preview) == [(1, "new"), (16, "new")]
    assert [row.doi for row in preview.rows] == [
        "10.1037/edu0000250",
        "10.3102/0034654315581420",
    ]
    last = record_at(preview, 16)
    assert last.authors == ("Kulik, James A.", "Fletcher, J. D.")
    assert (last.year, last.venue) == (2016, "Review of Educational Research")
    assert last.abstract == "Fifty evaluations were reviewed."
    assert record_at(preview, 1).abstract == "Interest was measured during problem solving."


MENDELEY_BIBTEX = r"""@article{Walkington2013,
abstract = {Students solved story problems matched to their interests.},
author = {Walkington, Candace A. and Bernacki, Matthew L. and M{\"{u}}ller, J{\"{o}}rg},
doi = {10.1037/a0031882},
issn = {0022-0663},
journal = {Journal of Educational Psychology},
keywords = {algebra,context personalization,story problems},
number = {4},
pages = {932--945},
title = {{Using adaptive learning technologies to personalize instruction: The impact of relevant contexts on performance}},
url = {http://doi.apa.org/getdoi.cfm?doi=10.1037/a0031882},
volume = {105},
year = {2013}
}
@inproceedings{Baker2010,
author = {Baker, Ryan S. J. d.},
booktitle = {Proceedings of the 3rd International Conference on Educational Data Mining},
doi = {https://doi.org/10.5281/ZENODO.3554617},
title = {{Mining data for student models}},
year = {2010}
}
@article{Broken2020,
author = {Nobody, N.},
title = {An entry whose closing brace is missing},
year = {2020}
"""


def test_mendeley_bibtex_decodes_accents_and_reports_the_unterminated_entry_by_line():
    preview = import_preview(data=MENDELEY_BIBTEX.encode(), filename="library.bib")
    assert preview.format == "bibtex"
    assert [(row.line, row.status) for row in preview.rows] == [
        (1, "new"),
        (15, "new"),
        (22, "error"),
    ]
    article = record_at(preview, 1)
    assert article.authors == ("Walkington, Candace A.", "Bernacki, Matthew L.", "Müller, Jörg")
    assert article.title.startswith("Using adaptive learning technologies")
    assert (article.year, article.venue, article.pages) == (
        2013,
        "Journal of Educational Psychology",
        "932-945",
    )
    assert article.keywords == ("algebra", "context personalization", "story problems")
    assert preview.rows[1].doi == "10.5281/zenodo.3554617"
    assert "closing brace" in preview.errors[0].message


# ERIC records saved by an older tool as Latin-1: accents in authors and titles, the ERIC number
# in the URL, one report without a DOI and one journal article with "doi:" before its DOI.
ERIC_RIS = lines(
    "TY  - RPRT",
    "AU  - Rodríguez, José",
    "AU  - Núñez, María",
    "T1  - Évaluation d'un programme d'apprentissage personnalisé",
    "PY  - 2017",
    "PB  - Institut de recherche en éducation",
    "UR  - https://eric.ed.gov/?id=ED573912",
    "KW  - Individualized Instruction",
    "KW  - Elementary School Students",
    "KW  - Program Evaluation",
    "N2  - Résumé: the programme raised reading scores «modestly».",
    "M3  - ED573912",
    "ER  - ",
    "",
    "TY  - JOUR",
    "AU  - Müller, Jörg",
    "T1  - Student choice and motivation in middle school",
    "JO  - Middle School Journal",
    "PY  - 2020",
    "VL  - 51",
    "IS  - 2",
    "SP  - 5",
    "EP  - 14",
    "DO  - doi:10.1080/00940771.2020.1714419",
    "ER  - ",
).encode("latin-1")


def test_eric_latin1_file_is_decoded_and_keywords_are_kept():
    preview = import_preview(data=ERIC_RIS, filename="eric_export.ris")
    assert statuses(preview) == [(1, "new"), (15, "new")]
    report = record_at(preview, 1)
    assert report.authors == ("Rodríguez, José", "Núñez, María")
    assert report.title == "Évaluation d'un programme d'apprentissage personnalisé"
    assert (report.year, report.venue, report.publication_type) == (
        2017,
        "Institut de recherche en éducation",
        "report",
    )
    assert report.abstract == "Résumé: the programme raised reading scores «modestly»."
    assert report.keywords == (
        "Individualized Instruction",
        "Elementary School Students",
        "Program Evaluation",
    )
    assert preview.rows[1].doi == "10.1080/00940771.2020.1714419"
    assert record_at(preview, 15).venue == "Middle School Journal"


# PsycINFO through Ovid: records numbered "<1>", T1/A1/Y1 tags, years like "2019//", the
# DOI only as a resolver URL in L2, and a record whose Y1 holds no year at all.
OVID_RIS = lines(
    "<1>",
    "TY  - JOUR",
    "DB  - APA PsycInfo",
    "AN  - 2019-45678-001",
    "ID  - 2019-45678-001",
    "T1  - Adaptive learning technologies in K-12 classrooms",
    "A1  - Smith, John",
    "A1  - Jones, Karen L.",
    "A1  - Zhang, Wei",
    "Y1  - 2019//",
    "N2  - Adaptive learning technologies are widely used in schools.",
    "KW  - *Adaptive Learning",
    "KW  - Elementary Education",
    "JF  - Computers & Education",
    "JA  - Comput Educ",
    "VL  - 140",
    "SP  - 103599",
    "M3  - Journal Article",
    "UR  - http://ovidsp.ovid.com/ovidweb.cgi?T=JS&PAGE=reference&D=psyc16&AN=2019-45678-001",
    "L2  - https://doi.org/10.1016/j.compedu.2019.103599",
    "ER  - ",
    "",
    "",
    "<2>",
    "TY  - JOUR",
    "T1  - Self-regulated learning prompts in online mathematics",
    "A1  - Lee, Ann",
    "Y1  - Spring issue",
    "JF  - Learning and Instruction",
    "ER  - ",
)


def test_ovid_numbered_records_parse_and_a_year_that_is_not_a_year_is_a_line_numbered_error():
    preview = import_preview(data=OVID_RIS.encode(), filename="ovid.txt")
    assert statuses(preview) == [(2, "new"), (25, "error")]
    article = record_at(preview, 2)
    assert article.authors == ("Smith, John", "Jones, Karen L.", "Zhang, Wei")
    assert (article.year, article.venue) == (2019, "Computers & Education")
    assert article.abstract == "Adaptive learning technologies are widely used in schools."
    assert article.keywords == ("*Adaptive Learning", "Elementary Education")
    assert preview.rows[0].doi == "10.1016/j.compedu.2019.103599"
    assert preview.errors[0].line == 25
    assert "'Spring issue' is not a year" in preview.errors[0].message


# EBSCOhost: a delivery header, records numbered "1." with blank junk lines, JO for the journal
# and years like "2020/03//".
EBSCO_RIS = lines(
    "Provider: EBSCOhost",
    "Database: ERIC",
    'Content: text/plain; charset="UTF-8"',
    "",
    "",
    "1.",
    "TY  - JOUR",
    "AU  - García, María",
    "AU  - Okafor, Chidi",
    "TI  - Teacher beliefs about personalized learning",
    "JO  - Journal of Educational Psychology",
    "JA  - J Educ Psychol",
    "Y1  - 2020/03//",
    "VL  - 112",
    "IS  - 3",
    "SP  - 455",
    "EP  - 470",
    "N2  - Teachers in 40 schools were surveyed.",
    "KW  - personalized learning",
    "KW  - teacher attitudes",
    "DO  - 10.1037/EDU0000412",
    "UR  - https://search.ebscohost.com/login.aspx?direct=true&db=eric&AN=EJ1234567",
    "DP  - EBSCOhost",
    "DB  - eric",
    "ER  - ",
    "",
    "2.",
    "TY  - RPRT",
    "AU  - Okafor, Chidi",
    "TI  - Playlists and pacing: a district pilot",
    "Y1  - 2021",
    "PB  - Regional Educational Laboratory",
    "ER  - ",
)


def test_ebsco_header_and_numbered_junk_lines_are_skipped_and_jo_is_the_venue():
    preview = import_preview(data=EBSCO_RIS.encode(), filename="delivery.txt")
    assert statuses(preview) == [(7, "new"), (28, "new")]
    article = record_at(preview, 7)
    assert article.authors == ("García, María", "Okafor, Chidi")
    assert (article.year, article.venue, article.pages) == (
        2020,
        "Journal of Educational Psychology",
        "455-470",
    )
    assert preview.rows[0].doi == "10.1037/edu0000412"
    assert record_at(preview, 28).venue == "Regional Educational Laboratory"


# ProQuest: T1 for a dissertation and TI for an article in the same file, the university as
# publisher, the article's DOI only as a dx.doi.org link in L2 ... and an invalid DO value.
PROQUEST_RIS = lines(
    "TY  - THES",
    "T1  - Personalized learning in rural middle schools: a mixed-methods study",
    "AU  - Nguyen, Thi Lan",
    "Y1  - 2018",
    "PY  - 2018",
    "PB  - University of Kansas",
    "CY  - Lawrence, KS",
    "AB  - This dissertation follows four rural middle schools.",
    "KW  - Education",
    "KW  - Personalized learning",
    "M3  - Ph.D.",
    "UR  - https://www.proquest.com/dissertations-theses/personalized/docview/2071234567/se-2",
    "ER  - ",
    "",
    "TY  - JOUR",
    "TI  - Competency-based progression and on-time graduation",
    "AU  - Reyes, Ana",
    "JF  - Educational Policy",
    "PY  - 2021",
    "L2  - http://dx.doi.org/10.1177/0895904819843604",
    "ER  - ",
    "",
    "TY  - JOUR",
    "TI  - Data dashboards for teachers",
    "AU  - Chen, Li",
    "JF  - Educational Technology Research and Development",
    "PY  - 2019",
    "DO  - 2019-00123-456",
    "ER  - ",
)


def test_proquest_t1_and_ti_titles_and_an_invalid_doi_is_an_error_with_its_line():
    preview = import_preview(data=PROQUEST_RIS.encode(), filename="ProQuestDocuments.ris")
    assert statuses(preview) == [(1, "new"), (15, "new"), (23, "error")]
    thesis = record_at(preview, 1)
    assert thesis.title == "Personalized learning in rural middle schools: a mixed-methods study"
    assert (thesis.publication_type, thesis.venue) == ("dissertation", "University of Kansas")
    assert record_at(preview, 15).title == "Competency-based progression and on-time graduation"
    assert preview.rows[1].doi == "10.1177/0895904819843604"
    assert preview.errors[0].line == 23
    assert "2019-00123-456" in preview.errors[0].message and "DOI" in preview.errors[0].message


SCOPUS_HEADER = (
    '"Authors","Author full names","Author(s) ID","Title","Year","Source title","Volume",'
    '"Issue","Art. No.","Page start","Page end","Page count","Cited by","DOI","Link",'
    '"Abstract","Author Keywords","Index Keywords","Document Type","Publication Stage",'
    '"Open Access","Source","EID"'
)
SCOPUS_CSV = codecs.BOM_UTF8 + lines(
    SCOPUS_HEADER,
    '"Hwang G.-J.; Sung H.-Y.; Chang H.","Hwang, Gwo-Jen (7201); Sung, Han-Yu (3708); Chang, '
    'Hsuan (5719)","7201;3708;5719","A personalized learning approach based on learning styles",'
    '"2021","Computers and Education","165","","104139","","","12","40",'
    '"10.1016/j.compedu.2021.104139","https://www.scopus.com/inward/record.uri?eid=2-s2.0-1",'
    '"Learning styles were detected automatically.\nA controlled experiment followed.",'
    '"Personalized learning; Learning styles","Students; E-learning","Article","Final","",'
    '"Scopus","2-s2.0-1"',
    '"Tang X.","Tang, Xin (5720)","5720","Mastery learning at scale","2022",'
    '"British Journal of Educational Technology","53","4","","800","818","19","3","","",'
    '"[No abstract available]","","","Article","Final","","Scopus","2-s2.0-2"',
    '"[No author name available]","[No author name available]","","Editorial","",'
    '"Education Sciences","11","","","","","1","0","","","[No abstract available]","","",'
    '"Editorial","Final","All Open Access","Scopus","2-s2.0-3"',
    newline="\r\n",
).encode("utf-8")


def test_scopus_csv_maps_its_headers_counts_physical_lines_and_reports_the_row_without_year():
    preview = import_preview(data=SCOPUS_CSV, filename="scopus.csv")
    assert preview.format == "csv"
    # The first data row's abstract spans two physical lines, so the next row is on line 4.
    assert statuses(preview) == [(2, "new"), (4, "new"), (5, "error")]
    first = record_at(preview, 2)
    assert first.authors == ("Hwang G.-J.", "Sung H.-Y.", "Chang H.")
    assert (first.year, first.venue, first.volume) == (2021, "Computers and Education", "165")
    assert first.abstract == (
        "Learning styles were detected automatically.\nA controlled experiment followed."
    )
    assert first.keywords == ("Personalized learning", "Learning styles")
    assert preview.rows[0].doi == "10.1016/j.compedu.2021.104139"
    second = record_at(preview, 4)
    assert (second.abstract, second.pages) == ("", "800-818")
    assert preview.errors[0].line == 5 and "year" in preview.errors[0].message


# Web of Science "Tab-delimited (Win, UTF-8)": a BOM, CRLF, two-letter column codes, full
# author names in AF, an upper-case journal name and a repeated record (same DOI).
WOS_TXT = (
    codecs.BOM_UTF8
    + lines(
        "PT\tAU\tAF\tTI\tSO\tDT\tDE\tAB\tPY\tVL\tIS\tBP\tEP\tDI\tUT",
        "J\tXie, HR; Chu, HC; Hwang, GJ\tXie, Haoran; Chu, Hui-Chun; Hwang, Gwo-Jen\t"
        "Trends and development in technology-enhanced adaptive/personalized learning\t"
        "COMPUTERS & EDUCATION\tReview\tAdaptive learning; Personalized learning\t"
        "This study reviews 70 articles published from 2007 to 2017.\t2019\t140\t\t103599\t\t"
        "10.1016/j.compedu.2019.103599\tWOS:000478000000001",
        "J\tXie, HR\tXie, Haoran\t"
        "Trends and development in technology-enhanced adaptive/personalized learning\t"
        "COMPUTERS & EDUCATION\tReview\t\t\t2019\t140\t\t103599\t\t"
        "10.1016/J.COMPEDU.2019.103599\tWOS:000478000000001",
        newline="\r\n",
    ).encode()
)


def test_web_of_science_tab_delimited_uses_full_author_names_and_flags_the_repeat_as_duplicate():
    preview = import_preview(data=WOS_TXT, filename="savedrecs.txt")
    assert preview.format == "csv"
    assert statuses(preview) == [(2, "new"), (3, "duplicate")]
    record = record_at(preview, 2)
    assert record.authors == ("Xie, Haoran", "Chu, Hui-Chun", "Hwang, Gwo-Jen")
    assert (record.year, record.venue, record.publication_type) == (
        2019,
        "COMPUTERS & EDUCATION",
        "journal_article",
    )
    assert record.keywords == ("Adaptive learning", "Personalized learning")
    assert preview.rows[1].duplicate_of_line == 2
    assert preview.rows[1].message == "duplicate of the record on line 2 of this file"


CONSORTIUM = [f"Author{n:03d}, A." for n in range(1, 301)]
EMBASE_RIS = lines(
    "TY  - JOUR",
    "ID  - 2011234567",
    "T1  - Digital tutoring and learning outcomes in 40 countries: a consortium study",
    *(f"A1  - {name}" for name in CONSORTIUM),
    "Y1  - 2021//",
    "N2  - We pooled data from 40 countries.",
    "JF  - The Lancet Digital Health",
    "JA  - Lancet Digit. Health",
    "VL  - 3",
    "IS  - 2",
    "SP  - e100",
    "EP  - e110",
    "CY  - United Kingdom",
    "PB  - Elsevier Ltd",
    "SN  - 2589-7500",
    "U2  - L2011234567",
    "L2  - http://dx.doi.org/10.1016/S2589-7500(20)30001-2",
    "DO  - 10.1016/S2589-7500(20)30001-2",
    "M3  - Article",
    "DB  - Embase",
    "KW  - adolescent",
    "KW  - *digital learning",
    "KW  - human",
    "ER  - ",
)


def test_embase_record_keeps_three_hundred_authors_in_order_and_normalises_the_doi():
    preview = import_preview(data=EMBASE_RIS.encode(), filename="records.ris")
    assert statuses(preview) == [(1, "new")]
    record = record_at(preview, 1)
    assert record.authors == tuple(CONSORTIUM)
    assert (record.year, record.venue, record.pages) == (
        2021,
        "The Lancet Digital Health",
        "e100-e110",
    )
    assert record.keywords == ("adolescent", "*digital learning", "human")
    assert preview.rows[0].doi == "10.1016/s2589-7500(20)30001-2"


PUBMED_NBIB = lines(
    "PMID- 31234567",
    "OWN - NLM",
    "STAT- MEDLINE",
    "IS  - 1098-4275 (Electronic)",
    "VI  - 143",
    "IP  - 6",
    "DP  - 2019 Jun",
    "TI  - Screen-based media use and reading readiness in preschool-aged",
    "      children.",
    "PG  - 704-37",
    "LID - 10.1542/peds.2019-0001 [doi]",
    "AB  - OBJECTIVE: To explore associations between screen use and reading.",
    "      METHODS: Children aged 3 to 5 years were assessed.",
    "FAU - Hutton, John S",
    "AU  - Hutton JS",
    "FAU - Dudley, Jonathan",
    "AU  - Dudley J",
    "LA  - eng",
    "PT  - Journal Article",
    "TA  - Pediatrics",
    "JT  - Pediatrics",
    "OT  - screen time",
    "OT  - reading",
    "",
    "PMID- 30987654",
    "OWN - NLM",
    "DP  - 2018",
    "TI  - Tutoring by peers in primary school: a cluster randomised trial.",
    "FAU - Topping, Keith",
    "JT  - Educational Research",
    "AID - 10.1080/00131881.2018.1000001 [doi]",
)


def test_pubmed_medline_export_maps_full_author_names_and_the_doi_from_lid():
    preview = import_preview(data=PUBMED_NBIB.encode(), filename="pubmed-set.nbib")
    assert preview.format == "ris"
    assert statuses(preview) == [(1, "new"), (25, "new")]
    record = record_at(preview, 1)
    assert record.title == (
        "Screen-based media use and reading readiness in preschool-aged children."
    )
    assert record.authors == ("Hutton, John S", "Dudley, Jonathan")
    assert (record.year, record.venue, record.pages) == (2019, "Pediatrics", "704-737")
    assert record.abstract.startswith("OBJECTIVE: To explore") and "METHODS:" in record.abstract
    assert record.keywords == ("screen time", "reading")
    assert [row.doi for row in preview.rows] == [
        "10.1542/peds.2019-0001",
        "10.1080/00131881.2018.1000001",
    ]


# --- What makes a record an error --------------------------------------------------------------


def test_records_that_cannot_become_studies_are_errors_naming_line_and_reason():
    text = lines(
        "TY  - JOUR",
        "TI  - A study from before the catalogue's range",
        "PY  - 1850",
        "ER  - ",
        "TY  - JOUR",
        "TI  - " + "A title that swallowed the rest of its record " * 30,
        "PY  - 2019",
        "ER  - ",
        "TY  - JOUR",
        "TI  - A volume that is far too long",
        "PY  - 2019",
        "VL  - " + "1" * 40,
        "ER  - ",
        "TY  - JOUR",
        "TI  - A link that is not a web address",
        "PY  - 2019",
        "UR  - not a url at all",
        "ER  - ",
        "TY  - JOUR",
        "AU  - Untitled, A.",
        "PY  - 2019",
        "ER  - ",
        "TY  - JOUR",
        "TI  - The one good record",
        "PY  - 2019",
        "ER  - ",
    )
    preview = import_preview(data=text.encode(), filename="mixed.ris")
    assert len(preview.new) == 1 and preview.new[0].line == 23
    errors = {e.line: e.message for e in preview.errors}
    assert list(errors) == [1, 5, 9, 14, 19]
    assert errors[1] == "year 1850 is outside 1900-2100"
    assert errors[5].startswith("the title is 1,379 characters long (at most 1,000)")
    assert errors[9].startswith("volume '1111") and "at most 30 characters" in errors[9]
    assert errors[14] == "url 'not a url at all': Enter a valid URL."
    assert errors[19] == "record has no title"


def test_an_empty_file_is_one_error_on_line_one():
    preview = import_preview(data=b"", filename="empty.ris")
    assert [(e.line, e.message) for e in preview.errors] == [(1, "the file is empty")]


def test_a_file_in_no_known_format_is_refused_and_so_is_an_unknown_format_name():
    with pytest.raises(ImportRefused) as refused:
        import_preview(data=b"just some notes\nnothing like a reference", filename="notes")
    assert refused.value.field == "file" and "RIS, BibTeX or CSV" in str(refused.value)
    with pytest.raises(ImportRefused) as bad_format:
        import_preview(data=ZOTERO_RIS.encode(), format="endnote-xml")
    assert bad_format.value.field == "format"


def test_an_oversize_file_is_refused_before_it_is_parsed(settings, monkeypatch):
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    monkeypatch.setattr(imports, "parse", lambda *a, **k: pytest.fail("parsed an oversize file"))
    with pytest.raises(ImportRefused) as refused:
        import_preview(data=b"TY  - JOUR\n" * 200_000)
    assert str(refused.value) == (
        "The file is 2.1 MB; files up to 1 MB can be imported. "
        "Export the references in several smaller files."
    )


# --- Duplicates ----------------------------------------------------------------------------------


def test_duplicates_of_existing_studies_are_found_by_doi_in_any_spelling_else_by_title_and_year():
    by_doi = StudyFactory(doi="10.3102/0013189x19851234", title="Another title entirely")
    by_title = StudyFactory(
        title="Continued Progress -- Promising Evidence on Personalized Learning!", year=2015
    )
    StudyFactory(
        title="The differentiated classroom: responding to the needs of all learners", year=1999
    )
    preview = import_preview(data=ZOTERO_RIS.encode())
    assert statuses(preview) == [(1, "duplicate"), (23, "duplicate"), (33, "new")]
    assert preview.rows[0].duplicate_of.pk == by_doi.pk
    assert preview.rows[1].duplicate_of.pk == by_title.pk
    assert preview.rows[0].message == f"duplicate of study {by_doi.pk}"
    # The bulk lookup agrees with the service that guards single creates.
    for row in preview.duplicates:
        match = services.study_find_duplicate(doi=row.doi, title=row.title, year=row.year)
        assert match.pk == row.duplicate_of.pk


def test_a_doi_that_matches_nothing_still_falls_back_to_title_and_year_like_the_service():
    existing = StudyFactory(title="Mastery learning at scale", year=2022, doi="10.1000/other")
    text = lines("TY  - JOUR", "TI  - Mastery Learning at Scale", "PY  - 2022", "DO  - 10.9999/new")
    preview = import_preview(data=(text + "ER  - \n").encode())
    assert preview.rows[0].duplicate_of.pk == existing.pk


def test_repeats_within_the_file_are_duplicates_of_the_first_occurrence():
    text = lines(
        "TY  - JOUR",
        "TI  - Peer tutoring in algebra",
        "PY  - 2018",
        "DO  - 10.1234/jme.2018.45",
        "ER  - ",
        "TY  - JOUR",
        "TI  - Peer tutoring in algebra (a different spelling of the title)",
        "PY  - 2018",
        "DO  - https://doi.org/10.1234/JME.2018.45",
        "ER  - ",
        "TY  - JOUR",
        "TI  - PEER TUTORING IN ALGEBRA.",
        "PY  - 2018",
        "ER  - ",
        "TY  - JOUR",
        "TI  - Peer tutoring in algebra",
        "PY  - 2019",
        "ER  - ",
    )
    preview = import_preview(data=text.encode())
    assert statuses(preview) == [(1, "new"), (6, "duplicate"), (11, "duplicate"), (15, "new")]
    assert [r.duplicate_of_line for r in preview.duplicates] == [1, 1]


def test_titles_without_latin_letters_are_not_duplicates_of_each_other():
    text = lines(
        "TY  - JOUR",
        "TI  - Персонализированное обучение в начальной школе",
        "PY  - 2020",
        "ER  - ",
        "TY  - JOUR",
        "TI  - 个性化学习对数学成绩的影响",
        "PY  - 2020",
        "ER  - ",
    )
    preview = import_preview(data=text.encode())
    assert statuses(preview) == [(1, "new"), (5, "new")]


def test_the_preview_looks_duplicates_up_with_two_queries_however_many_records(
    django_assert_max_num_queries,
):
    StudyFactory.create_batch(5)
    records = [
        lines("TY  - JOUR", f"TI  - Record {n}", "PY  - 2015", f"DO  - 10.5555/r{n}", "ER  - ")
        for n in range(400)
    ]
    with django_assert_max_num_queries(2):
        preview = import_preview(data="".join(records).encode())
    assert len(preview.new) == 400


# --- Committing: drafts, all or nothing ----------------------------------------------------------


def test_a_commit_skips_duplicates_and_errors_and_reports_them_exactly(researcher):
    StudyFactory(doi="10.1037/a0031882")
    result = import_commit(data=ENDNOTE_RIS, user=researcher, filename="EndNote Export.txt")
    assert (result.new, result.created, result.duplicates) == (1, 1, 1)
    assert [(e.line, e.message) for e in result.errors] == [
        (36, "the record has no year; a study needs its publication year")
    ]
    created = Study.objects.get(pk=result.study_ids[0])
    assert created.title == "Mining data for student models" and created.doi is None


def test_importing_the_same_file_twice_creates_nothing_the_second_time(researcher):
    first = import_commit(data=ZOTERO_RIS.encode(), user=researcher)
    second = import_commit(data=ZOTERO_RIS.encode(), user=researcher)
    assert (first.created, second.created, second.duplicates) == (3, 0, 3)
    assert [r.duplicate_of_id for r in second.rows] == list(first.study_ids)


def test_a_dry_run_reports_what_would_be_created_and_creates_nothing(researcher):
    result = import_commit(data=ZOTERO_RIS.encode(), user=researcher, dry_run=True)
    assert (result.new, result.created, result.study_ids) == (3, 0, ())
    assert not Study.objects.exists()


def test_when_the_database_refuses_the_second_record_nothing_is_created_and_its_line_is_named(
    researcher, monkeypatch
):
    # The drafts are inserted in bulk, so the failure is made where the database decides: the
    # second record (line 23) gets a year the study_year_range constraint refuses.
    StudyFactory(title="Already here", year=2001)
    original_study = imports._study

    def refused_on_line_23(record, doi, *, note):
        study = original_study(record, doi, note=note)
        if record.line == 23:
            study.year = 3000
        return study

    monkeypatch.setattr(imports, "_study", refused_on_line_23)
    with pytest.raises(ImportFailed) as failed:
        import_commit(data=ZOTERO_RIS.encode(), user=researcher)
    assert failed.value.line == 23
    assert "study_year_range" in str(failed.value)
    assert "nothing was imported" in str(failed.value)
    assert list(Study.objects.values_list("title", flat=True)) == ["Already here"]
    assert Study.history.count() == 1


def _ris_records(count: int, offset: int = 0) -> bytes:
    return "".join(
        lines(
            "TY  - JOUR",
            f"TI  - Bulk record {offset + n}",
            "AU  - Lee, K.",
            "AU  - Ortiz, M.",
            "PY  - 2015",
            f"DO  - 10.5555/bulk{offset + n}",
            "ER  - ",
        )
        for n in range(count)
    ).encode()


def test_a_commit_takes_as_many_queries_for_three_hundred_records_as_for_three(
    researcher, django_assert_max_num_queries
):
    with CaptureQueriesContext(connection) as small:
        assert import_commit(data=_ris_records(3), user=researcher).created == 3
    # The drafts are inserted with their tier: no UPDATE rewrites every new row afterwards.
    assert not [q for q in small.captured_queries if q["sql"].startswith("UPDATE")]
    with django_assert_max_num_queries(len(small)):
        large = import_commit(data=_ris_records(300, offset=3), user=researcher)
    assert large.created == 300
    assert Study.history.filter(history_type="+", history_user=researcher).count() == 303
    draft = Study.objects.get(doi="10.5555/bulk299")
    assert draft.authors == ["Lee, K.", "Ortiz, M."] and draft.title_key == "bulk record 299"
    assert draft.created_at is not None and draft.version == 1


def test_a_doi_taken_between_preview_and_save_rolls_the_whole_import_back(researcher, monkeypatch):
    # As if another researcher saved the same DOI after the duplicate lookup: the database's
    # unique constraint refuses the second record, and the first must not survive either.
    StudyFactory(doi="10.1037/edu0000412", title="Saved by someone else meanwhile")
    monkeypatch.setattr(imports, "_existing_by_doi", lambda dois: {})
    monkeypatch.setattr(imports, "_existing_by_title", lambda keys: {})
    reordered = EBSCO_RIS.split("2.\n")[1] + EBSCO_RIS.split("2.\n")[0]
    with pytest.raises(ImportFailed):
        import_commit(data=reordered.encode(), user=researcher)
    assert Study.objects.count() == 1


# --- Round trip ----------------------------------------------------------------------------------


@pytest.fixture
def catalogue():
    return [
        StudyFactory(
            title="Peer tutoring in algebra: a randomized trial",
            authors=["Lee, K.", "Ortiz, M."],
            year=2018,
            venue="Journal of Math Education",
            volume="12",
            issue="3",
            pages="45-67",
            doi="10.1234/jme.2018.45",
            abstract="Students tutored each other.\nScores rose.",
        ),
        StudyFactory(
            title="Évaluation des parcours personnalisés & 20% de temps libre {pilot}",
            authors=["Müller, Jörg", "Núñez, María"],
            year=2020,
            venue="Revue française de pédagogie",
            doi=None,
            publication_type="report",
            status=ReviewStatus.DRAFT,
        ),
        StudyFactory(
            title="A consortium trial of digital tutoring",
            authors=CONSORTIUM,
            year=2021,
            venue="",
            doi="10.1016/s2589-7500(20)30001-2",
            publication_type="journal_article",
        ),
        StudyFactory(
            title="Playlists and pacing", authors=[], year=2015, doi=None, publication_type="book"
        ),
    ]


@pytest.mark.parametrize(
    "writer, filename", [(to_ris, "export.ris"), (to_bibtex, "export.bib"), (to_csv, "export.csv")]
)
def test_an_export_imported_again_is_all_duplicates_of_the_same_studies(
    catalogue, writer, filename
):
    exported = writer(Study.objects.order_by("pk")).encode()
    preview = import_preview(data=exported, filename=filename)
    assert preview.errors == ()
    assert [row.status for row in preview.rows] == ["duplicate"] * len(catalogue)
    assert {row.duplicate_of_id for row in preview.rows} == {s.pk for s in catalogue}


@pytest.mark.parametrize("fmt", ["ris", "bibtex", "csv"])
def test_an_export_imported_into_an_empty_catalogue_keeps_its_citations(catalogue, researcher, fmt):
    out = StringIO()
    call_command("export_studies", format=fmt, stdout=out)
    before = {
        s.title_key: (s.title, s.authors, s.year, s.venue, s.doi)
        for s in Study.objects.order_by("pk")
    }
    Study.objects.all().delete()
    result = import_commit(data=out.getvalue().encode(), user=researcher, format=fmt)
    assert result.created == len(catalogue) and result.errors == ()
    after = {
        s.title_key: (s.title, s.authors, s.year, s.venue, s.doi)
        for s in Study.objects.order_by("pk")
    }
    assert after == before


# --- The commands ------------------------------------------------------------------------------


@pytest.fixture
def endnote_file(tmp_path):
    path = tmp_path / "EndNote Export.txt"
    path.write_bytes(ENDNOTE_RIS)
    return path


def test_import_references_prints_counts_and_each_error_with_its_line(endnote_file, researcher):
    out = StringIO()
    call_command("import_references", str(endnote_file), user=researcher.username, stdout=out)
    assert out.getvalue().splitlines() == [
        "EndNote Export.txt (RIS): 3 records; created 2 draft studies, skipped 0 duplicates "
        "and 1 error.",
        "line 36: the record has no year; a study needs its publication year",
    ]
    assert set(Study.objects.values_list("created_by", flat=True)) == {researcher.pk}


def test_import_references_dry_run_creates_nothing(endnote_file):
    out = StringIO()
    call_command("import_references", str(endnote_file), dry_run=True, stdout=out)
    assert "would create 2 draft studies" in out.getvalue()
    assert not Study.objects.exists()


def test_import_references_json_is_the_api_result(endnote_file, researcher):
    out = StringIO()
    call_command("import_references", str(endnote_file), "--json", "--dry-run", stdout=out)
    from_command = json.loads(out.getvalue())
    with endnote_file.open("rb") as upload:
        from_api = api(researcher).post(
            "/api/v1/imports/", {"file": upload, "dry_run": "true"}, format="multipart"
        )
    assert from_command == from_api.json()
    assert from_command["errors"] == [
        {"line": 36, "message": "the record has no year; a study needs its publication year"}
    ]


def test_import_references_refuses_unknown_users_missing_files_and_oversize_files(
    endnote_file, settings, tmp_path
):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("import_references", str(endnote_file), user="nobody")
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_references", str(tmp_path / "missing.ris"))
    settings.IMPORT_MAX_BYTES = 100
    with pytest.raises(CommandError, match="files up to"):
        call_command("import_references", str(endnote_file))


def test_import_references_with_an_explicit_format_reads_a_misnamed_file(tmp_path):
    path = tmp_path / "references.dat"
    path.write_bytes(SCOPUS_CSV)
    out = StringIO()
    call_command("import_references", str(path), format="csv", dry_run=True, stdout=out)
    assert out.getvalue().startswith("references.dat (CSV): 3 records; would create 2")


def test_export_studies_writes_the_chosen_status_to_stdout(catalogue):
    out = StringIO()
    call_command("export_studies", format="ris", status="published", stdout=out)
    titles = [line[6:] for line in out.getvalue().splitlines() if line.startswith("TI  - ")]
    assert sorted(titles) == sorted(s.title for s in catalogue if s.status == "published")


# --- The API -----------------------------------------------------------------------------------


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def upload(content: bytes, name: str = "library.ris", **fields):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {"file": SimpleUploadedFile(name, content), **fields}


def test_the_import_api_needs_the_researcher_role():
    assert api().post("/api/v1/imports/", upload(ZOTERO_RIS.encode())).status_code in (401, 403)
    no_role = api(UserFactory()).post("/api/v1/imports/", upload(ZOTERO_RIS.encode()))
    assert no_role.status_code == 403
    assert not Study.objects.exists()


def test_a_researcher_imports_through_the_api_and_gets_the_contracted_fields(researcher):
    StudyFactory(doi="10.1037/a0031882")
    response = api(researcher).post("/api/v1/imports/", upload(ENDNOTE_RIS, "export.txt"))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["created"], body["duplicates"], body["format"], body["dry_run"]) == (
        1,
        1,
        "ris",
        False,
    )
    assert body["errors"] == [
        {"line": 36, "message": "the record has no year; a study needs its publication year"}
    ]
    assert body["study_ids"] == list(
        Study.objects.filter(created_by=researcher).values_list("pk", flat=True)
    )
    assert [r["status"] for r in body["records"]] == ["duplicate", "new", "error"]
    assert body["records"][0]["keywords"] == [
        "context personalization",
        "algebra",
        "story problems",
    ]


def test_a_curator_may_import_too(curator):
    assert api(curator).post("/api/v1/imports/", upload(ZOTERO_RIS.encode())).status_code == 201


def test_an_api_dry_run_creates_nothing(researcher):
    response = api(researcher).post("/api/v1/imports/", upload(ZOTERO_RIS.encode(), dry_run="true"))
    assert response.status_code == 200
    assert (response.json()["new"], response.json()["created"]) == (3, 0)
    assert not Study.objects.exists()


def test_the_api_refuses_an_oversize_file_with_a_message_on_file(researcher, settings):
    settings.IMPORT_MAX_BYTES = 100
    response = api(researcher).post("/api/v1/imports/", upload(ZOTERO_RIS.encode()))
    assert response.status_code == 400
    assert "files up to" in response.json()["file"][0]


def test_the_api_puts_format_problems_on_their_field(researcher):
    unreadable = api(researcher).post("/api/v1/imports/", upload(b"hello world", "notes"))
    assert unreadable.status_code == 400 and "file" in unreadable.json()
    unknown = api(researcher).post("/api/v1/imports/", upload(ZOTERO_RIS.encode(), format="xml"))
    assert unknown.status_code == 400 and "format" in unknown.json()
    missing = api(researcher).post("/api/v1/imports/", {"dry_run": "true"})
    assert missing.status_code == 400 and "file" in missing.json()


def test_an_api_import_that_fails_to_save_is_a_conflict_and_creates_nothing(
    researcher, monkeypatch
):
    def fail(*args, **kwargs):
        raise ImportFailed(23, "simulated")

    monkeypatch.setattr(imports, "import_commit", fail)
    response = api(researcher).post("/api/v1/imports/", upload(ZOTERO_RIS.encode()))
    assert response.status_code == 409 and response.json()["line"] == 23


# --- The page ----------------------------------------------------------------------------------


def page_upload(client, content: bytes, name: str = "library.ris", **fields):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        "/workspace/import/", {"file": SimpleUploadedFile(name, content), "format": "", **fields}
    )


def test_the_import_page_sends_visitors_to_sign_in_and_refuses_users_without_the_role(client):
    response = client.get("/workspace/import/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(UserFactory())
    assert client.get("/workspace/import/").status_code == 403
    assert client.post("/workspace/import/confirm/", {"token": "x"}).status_code == 403


def test_a_researcher_previews_then_confirms_and_gets_drafts(client, researcher):
    published = StudyFactory(doi="10.3102/0013189x19851234", title="Pane et al. 2019")
    client.force_login(researcher)
    assert client.get("/workspace/import/").status_code == 200
    response = page_upload(client, ZOTERO_RIS.encode())
    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="{published.get_absolute_url()}"' in html and "duplicate" in html
    assert "Create 2 draft studies" in html
    assert not Study.objects.filter(created_by=researcher).exists()
    token = response.context["token"]
    confirmed = client.post("/workspace/import/confirm/", {"token": token}, follow=True)
    assert "Created 2 draft studies; skipped 1 duplicate and 0 records with errors." in (
        confirmed.content.decode()
    )
    drafts = Study.objects.filter(created_by=researcher, status=ReviewStatus.DRAFT)
    assert sorted(drafts.values_list("year", flat=True)) == [2014, 2015]


def test_the_preview_lists_errors_with_line_and_reason(client, researcher):
    client.force_login(researcher)
    html = page_upload(client, ENDNOTE_RIS, "EndNote Export.txt").content.decode()
    assert "<td>36</td>" in html
    assert "the record has no year; a study needs its publication year" in html


def test_confirming_imports_the_uploaded_bytes_not_anything_the_browser_sends(client, researcher):
    client.force_login(researcher)
    token = page_upload(client, ZOTERO_RIS.encode()).context["token"]
    client.post(
        "/workspace/import/confirm/",
        {"token": token, "data": MENDELEY_RIS, "file": "evil.ris", "format": "csv"},
    )
    assert Study.objects.count() == 3
    assert not Study.objects.filter(title__contains="situational interest").exists()


def test_a_preview_can_be_confirmed_once_and_only_with_its_own_token(client, researcher):
    client.force_login(researcher)
    token = page_upload(client, ZOTERO_RIS.encode()).context["token"]
    wrong = client.post("/workspace/import/confirm/", {"token": "forged"}, follow=True)
    assert "no longer available" in wrong.content.decode() and not Study.objects.exists()
    client.post("/workspace/import/confirm/", {"token": token})
    again = client.post("/workspace/import/confirm/", {"token": token}, follow=True)
    assert "no longer available" in again.content.decode()
    assert Study.objects.count() == 3


def test_a_newer_upload_replaces_the_pending_one(client, researcher):
    client.force_login(researcher)
    first = page_upload(client, ZOTERO_RIS.encode()).context["token"]
    page_upload(client, MENDELEY_RIS.encode(), "mendeley.ris")
    client.post("/workspace/import/confirm/", {"token": first})
    assert not Study.objects.exists()


def test_cancelling_forgets_the_upload(client, researcher):
    client.force_login(researcher)
    token = page_upload(client, ZOTERO_RIS.encode()).context["token"]
    client.post("/workspace/import/cancel/")
    client.post("/workspace/import/confirm/", {"token": token})
    assert not Study.objects.exists()


def test_the_page_refuses_an_oversize_file_on_the_file_field(client, researcher, settings):
    settings.IMPORT_MAX_BYTES = 100
    client.force_login(researcher)
    response = page_upload(client, ZOTERO_RIS.encode())
    assert response.status_code == 200
    assert "files up to" in response.context["form"].errors["file"][0]
    assert "token" not in response.context


def test_the_page_shows_an_unreadable_file_as_a_form_error(client, researcher):
    client.force_login(researcher)
    response = page_upload(client, b"hello world", "notes")
    assert "RIS, BibTeX or CSV" in response.context["form"].errors["file"][0]


def test_a_duplicate_of_another_researchers_draft_does_not_reveal_its_title(client, researcher):
    StudyFactory(
        doi="10.3102/0013189x19851234",
        title="Someone else's working title",
        status=ReviewStatus.DRAFT,
        created_by=UserFactory(),
    )
    client.force_login(researcher)
    html = page_upload(client, ZOTERO_RIS.encode()).content.decode()
    assert "Someone else" not in html
    assert "an unpublished study by another researcher" in html


# --- Fuzz: nothing but the importer's own errors -------------------------------------------------

SAMPLES = [
    ZOTERO_RIS.encode(),
    ENDNOTE_RIS,
    MENDELEY_RIS.encode(),
    MENDELEY_BIBTEX.encode(),
    ERIC_RIS,
    OVID_RIS.encode(),
    PROQUEST_RIS.encode(),
    SCOPUS_CSV,
    WOS_TXT,
    PUBMED_NBIB.encode(),
]


@settings(max_examples=150, deadline=None)
@given(
    st.binary(max_size=600),
    st.sampled_from([None, "ris", "bibtex", "csv"]),
    st.sampled_from(["", "x.ris", "x.bib", "x.csv", "x.txt"]),
)
def test_random_bytes_never_raise_anything_but_import_refused(data, fmt, filename):
    with contextlib.suppress(ImportRefused):
        import_preview(data=data, format=fmt, filename=filename)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.sampled_from(SAMPLES), st.data())
def test_truncated_real_exports_import_cleanly_or_are_refused(researcher, sample, data):
    cut = data.draw(st.integers(min_value=0, max_value=len(sample)))
    start = data.draw(st.integers(min_value=0, max_value=cut))
    try:
        result = import_commit(data=sample[start:cut], user=researcher)
    except ImportRefused:
        return
    assert result.created + result.duplicates + len(result.errors) == len(result.rows)
