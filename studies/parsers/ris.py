"""RIS (and PubMed's MEDLINE/.nbib) parsing with a tolerant line parser of our own.

rispy is not used: it loses line numbers, drops the first record behind a BOM, does not map
`BT`, and gives up on the junk lines EBSCO and Ovid put between numbered records.
"""

import re

from .base import (
    ParsedRecord,
    ParseError,
    ParseResult,
    first,
    join_pages,
    make_record,
    publication_type,
    result,
    split_list,
)

# "TY  - JOUR"; also tolerated: one or three spaces before the dash, and an empty value.
_TAG = re.compile(r"^([A-Z][A-Z0-9])[ \t]{1,3}-(?:[ \t]+(.*)|[ \t]*)$")
# EBSCO/Ovid record numbers ("1.", "<2>") between records are junk, not field continuations.
_RECORD_NUMBER = re.compile(r"^\s*<?\s*\d+\s*[.>)]?\s*$")
# A continuation line of these tags is a further value (EndNote writes keywords one per line
# under a single KW tag), not more text of the same value.
_LIST_TAGS = {"KW", "UR", "L1", "L2", "L3"}
_DOI = re.compile(r"^(?:doi:\s*)?10\.\d{4,9}/\S+$", re.IGNORECASE)
_DOI_URL = re.compile(r"^https?://(?:dx\.)?doi\.org/10\.\S+$", re.IGNORECASE)

_MEDLINE_START = re.compile(r"^PMID- ?\S", re.MULTILINE)
_RIS_START = re.compile(r"^TY {1,3}- ?\S", re.MULTILINE)
# "PMID- 123", "TI  - ...", "FAU - ...": the tag is padded to four columns before "- ".
_MEDLINE_TAG = re.compile(r"^([A-Z][A-Z0-9]{1,3}) {0,3}- ?(.*)$")

Fields = dict[str, list[str]]
# While a record is read each value is a list of its lines, joined when the record ends: adding
# every continuation line to a growing string made a long value quadratic (a 1 MB file of
# continuation lines took 10 s, a 20 MB one hours).
_Parts = dict[str, list[list[str]]]
# Continuation lines of an abstract keep their line breaks; other values are one line of text.
_PARAGRAPH_TAGS = ("AB", "N2")


def _joined(parts: _Parts, paragraph_tags: tuple[str, ...] = _PARAGRAPH_TAGS) -> Fields:
    return {
        tag: [("\n" if tag in paragraph_tags else " ").join(lines) for lines in values]
        for tag, values in parts.items()
    }


def parse_ris(text: str) -> ParseResult:
    """Parse RIS text (Zotero, EndNote, Mendeley, EBSCO, Ovid, ProQuest, WoS ...)."""
    if _MEDLINE_START.search(text) and not _RIS_START.search(text):
        return _parse_medline(text)
    items: list[ParsedRecord | ParseError] = []
    fields: _Parts | None = None
    start = last_tag = None
    for number, line in enumerate(text.split("\n"), start=1):
        match = _TAG.match(line)
        if match is None:
            if fields is None or last_tag is None or not line.strip():
                continue
            if _RECORD_NUMBER.match(line):
                continue
            if last_tag in _LIST_TAGS:
                fields[last_tag].append([line])
            else:
                fields[last_tag][-1].append(line)
            continue
        tag, value = match.group(1), (match.group(2) or "").strip()
        if tag == "ER":
            if fields is not None:
                items.append(_ris_record(start, _joined(fields)))
            fields = last_tag = None
            continue
        if tag == "TY" and fields is not None:
            # The previous record has no ER line: accept it as ended.
            items.append(_ris_record(start, _joined(fields)))
            fields = None
        if fields is None:
            fields, start = {}, number
        # A1 is the old spelling of AU; one list keeps the authors in file order.
        tag = "AU" if tag == "A1" else tag
        fields.setdefault(tag, []).append([value])
        last_tag = tag
    if fields is not None:
        items.append(_ris_record(start, _joined(fields)))
    extra = []
    if not items:
        extra.append(ParseError(1, "no RIS records were found (expected lines like 'TY  - JOUR')"))
    return result("ris", items, extra)


def _ris_record(line: int, f: Fields) -> ParsedRecord | ParseError:
    def get(*tags: str) -> str:
        return first(*(v for t in tags for v in f.get(t, ())))

    def values(*tags: str) -> list[str]:
        return [v for t in tags for v in f.get(t, ())]

    kind = publication_type(get("TY"))
    if kind == "report" and "working paper" in get("M3").lower():
        # Zotero and EndNote write the report type ("Working Paper") to M3.
        kind = "working_paper"
    title = get("TI", "T1", "CT")
    venue_tags = ["JF", "T2", "JO", "BT", "T3", "JA", "J2", "J1", "PB"]
    if not title and kind == "book":
        # For a whole book BT is the book's own title, not where it was published.
        title = get("BT")
        venue_tags.remove("BT")
    doi = get("DO", "DI") or next(
        (v.strip() for v in values("UR", "L3", "M3", "L2") if _is_doi(v.strip())), None
    )
    url = get("UR") or next((v for v in values("L2") if v.strip().startswith("http")), "")
    # Old RIS put notes in AB and the abstract in N2; exports now use either: keep the longer.
    abstracts = [next((v for v in f.get(t, ()) if v.strip()), "") for t in ("AB", "N2")]
    return make_record(
        line,
        title=title,
        # A2/A3 are editors and series editors, not authors.
        authors=split_list(f.get("AU", [])),
        years=values("PY", "Y1", "DA"),
        venue=get(*venue_tags),
        volume=get("VL"),
        issue=get("IS"),
        pages=join_pages(get("SP"), get("EP")),
        doi=doi,
        url=url,
        abstract=max(abstracts, key=len),
        publication_type=kind,
        keywords=split_list(values("KW")),
    )


def _is_doi(value: str) -> bool:
    return bool(_DOI.match(value) or _DOI_URL.match(value))


def _parse_medline(text: str) -> ParseResult:
    """PubMed's own export: four-column tags, six-space continuation lines, no TY/ER."""
    items: list[ParsedRecord | ParseError] = []
    fields: _Parts | None = None
    start = last_tag = None
    for number, line in enumerate(text.split("\n"), start=1):
        if line[:1].isspace() and fields is not None and last_tag is not None and line.strip():
            fields[last_tag][-1].append(line.strip())
            continue
        match = _MEDLINE_TAG.match(line)
        if match is None:
            last_tag = None
            continue
        tag, value = match.group(1), match.group(2).strip()
        if tag == "PMID" and fields is not None:
            items.append(_medline_record(start, _joined(fields, ())))
            fields = None
        if fields is None:
            fields, start = {}, number
        fields.setdefault(tag, []).append([value])
        last_tag = tag
    if fields is not None:
        items.append(_medline_record(start, _joined(fields, ())))
    return result("ris", items)


def _medline_record(line: int, f: Fields) -> ParsedRecord | ParseError:
    def get(*tags: str) -> str:
        return first(*(v for t in tags for v in f.get(t, ())))

    ids = f.get("AID", []) + f.get("LID", [])
    doi = next((i.removesuffix("[doi]").strip() for i in ids if i.endswith("[doi]")), None)
    pmid = get("PMID")
    return make_record(
        line,
        title=get("TI", "BTI"),
        authors=f.get("FAU") or f.get("AU", []),
        years=f.get("DP", []),
        venue=get("JT", "TA"),
        volume=get("VI"),
        issue=get("IP"),
        pages=get("PG"),
        doi=doi,
        url=f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid.isdigit() else "",
        abstract=get("AB"),
        publication_type=publication_type(*f.get("PT", [])),
        keywords=f.get("OT") or f.get("MH", []),
    )
