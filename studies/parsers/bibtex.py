"""BibTeX parsing on top of bibtexparser 2 (splitting, @string macros, braces) and pylatexenc."""

import functools
import logging
import re
import unicodedata

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.middlewares import (
    RemoveEnclosingMiddleware,
    ResolveStringReferencesMiddleware,
)
from bibtexparser.middlewares.names import split_multiple_persons_names
from bibtexparser.model import (
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    Field,
    MiddlewareErrorBlock,
    ParsingFailedBlock,
)

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

# bibtexparser logs every malformed block as a warning; we report them as ParseErrors instead.
logging.getLogger("bibtexparser").setLevel(logging.ERROR)

_LATEX_SPECIALS = re.compile(r"[\\{}$~%]")
# BibTeX values have no comments, but pylatexenc would drop the rest of "20% of pupils".
_BARE_PERCENT = re.compile(r"(?<!\\)%")
_ENTRY_HEAD = re.compile(r"@\s*(\w+)\s*[{(]\s*([^,\s}]*)")
# Without a comma between fields bibtexparser reads the next "key = value" into the value.
_FIELD_START = re.compile(r"\s*[A-Za-z][\w-]*\s*=")
_PARAGRAPH = re.compile(r"\n\s*\n|\\par\b")
_DELIMITERS = re.compile(r'[{}"]')
_KEYWORD_FIELDS = ("keywords", "keyword")


def parse_bibtex(text: str) -> ParseResult:
    """Parse BibTeX (Zotero, Mendeley, JabRef, Google Scholar ...) text."""
    try:
        raw = bibtexparser.parse_string(text, parse_stack=[])
    except Exception as exc:  # bibtexparser raises on states it calls its own bugs
        return result("bibtex", [], [ParseError(1, f"could not read the BibTeX file ({exc})")])
    items: list[tuple[int, Entry] | ParseError] = []
    for block in raw.blocks:
        line = (block.start_line or 0) + 1
        entry = None
        if isinstance(block, Entry):
            entry = block
        elif isinstance(block, DuplicateBlockKeyBlock | DuplicateFieldKeyBlock):
            # A reused citation key or a repeated field is not a reason to lose the reference.
            if isinstance(block.ignore_error_block, Entry):
                entry = _dedupe_fields(block.ignore_error_block)
        elif isinstance(block, ParsingFailedBlock):
            items.append(ParseError(line, _failure_message(block)))
        if entry is not None and any(_swallows_next_field(f.value) for f in entry.fields):
            what = _entry_name(entry.key)
            items.append(
                ParseError(line, f"malformed {what}: a comma is missing between two fields")
            )
        elif entry is not None:
            items.append((line, entry))
    entries = [item for item in items if isinstance(item, tuple)]
    # Fresh keys keep duplicates apart while @string macros and enclosing braces are resolved.
    fresh = [
        Entry(e.entry_type, str(i), [Field(f.key, f.value) for f in e.fields])
        for i, (_, e) in enumerate(entries)
    ]
    library = Library(list(raw.strings) + fresh, fail_on_duplicate_key=False)
    try:
        for middleware in (ResolveStringReferencesMiddleware(), RemoveEnclosingMiddleware()):
            library = middleware.transform(library)
    except Exception as exc:
        return result("bibtex", [], [ParseError(1, f"could not read the BibTeX file ({exc})")])
    resolved = {}
    for block in library.blocks:
        if isinstance(block, MiddlewareErrorBlock):
            block = block.ignore_error_block
        if isinstance(block, Entry):
            resolved[block.key] = block
    records: list[ParsedRecord | ParseError] = [i for i in items if isinstance(i, ParseError)]
    budget = _LatexBudget(LATEX_BUDGET_CHARS)
    for i, (line, _) in enumerate(entries):
        records.append(_record(line, resolved.get(str(i), fresh[i]), budget))
    extra = []
    if not records:
        extra.append(ParseError(1, "no BibTeX entries were found (expected '@article{...')"))
    return result("bibtex", sorted(records, key=lambda r: r.line), extra)


def _dedupe_fields(entry: Entry) -> Entry:
    """The entry with the first of each repeated field (keywords are merged instead)."""
    kept: dict[str, Field] = {}
    for field in entry.fields:
        key = field.key.lower()
        if key not in kept:
            kept[key] = Field(field.key, field.value)
        elif key in _KEYWORD_FIELDS:
            kept[key] = Field(field.key, f"{kept[key].value}, {field.value}")
    return Entry(entry.entry_type, entry.key, list(kept.values()), entry.start_line)


def _swallows_next_field(value: object) -> bool:
    """Whether a raw value runs on past its closing brace or quote into "key = ..."."""
    if not isinstance(value, str) or value[:1] not in ("{", '"') or "=" not in value:
        return False
    closing, depth = value[0].replace("{", "}"), 0
    for mark in _DELIMITERS.finditer(value, 1):
        char = mark.group()
        if char == "{":
            depth += 1
        elif char == "}" and depth > 0:
            depth -= 1
        elif char == closing and depth == 0:
            return bool(_FIELD_START.match(value, mark.end()))
    return False


def _entry_name(key: str) -> str:
    # A broken file can make a whole run of text look like a citation key: show its start only.
    if not key:
        return "BibTeX entry"
    return f"BibTeX entry '{key if len(key) <= 60 else key[:57] + '...'}'"


def _failure_message(block: ParsingFailedBlock) -> str:
    head = _ENTRY_HEAD.match(block.raw or "")
    what = _entry_name(head.group(2) if head else "")
    reason = str(getattr(block.error, "abort_reason", block.error))
    if "end of file" in reason or "Unexpected block start" in reason:
        return f"unterminated {what} (a closing brace or quote is missing)"
    if "comma after entry key" in reason:
        return f"malformed {what}: no comma after the citation key"
    if "`=`" in reason:
        return f"malformed {what}: a field has no '=' sign"
    if "after a closed entry field value" in reason:
        return f"malformed {what}: a comma is missing between two fields"
    return f"malformed {what}"


def _record(line: int, entry: Entry, budget: "_LatexBudget") -> ParsedRecord | ParseError:
    def _latex(value: str) -> str:
        return _decode_latex(value, budget)

    fields: dict[str, str] = {}
    for field in entry.fields:
        if isinstance(field.value, str):
            fields.setdefault(field.key.lower(), field.value)

    def get(*keys: str) -> str:
        return first(*(_latex(fields.get(k, "")) for k in keys))

    kind = publication_type(entry.entry_type)
    if kind == "report" and "working paper" in get("type").lower():
        kind = "working_paper"
    howpublished = _verbatim(fields.get("howpublished", ""))
    url = _verbatim(fields.get("url", "")) or (howpublished if "://" in howpublished else "")
    keywords = [_latex(fields.get(k, "")) for k in _KEYWORD_FIELDS]
    issue_fields = ("issue", "number") if kind not in ("report", "working_paper") else ("issue",)
    return make_record(
        line,
        title=get("title"),
        # "and others" is BibTeX for et al., not a person.
        authors=[
            _latex(name)
            for name in split_multiple_persons_names(fields.get("author", ""))
            if name.strip().lower() != "others"
        ],
        years=[v for v in (fields.get("year", ""), fields.get("date", "")) if v.strip()][:1],
        venue=get(
            "journal",
            "journaltitle",
            "booktitle",
            "series",
            "publisher",
            "institution",
            "school",
            "organization",
        ),
        volume=get("volume"),
        issue=get(*issue_fields),
        pages=join_pages(get("pages")),
        doi=_verbatim(fields.get("doi", "")) or None,
        url=url,
        # Line breaks in a BibTeX value are wrapping; only blank lines separate paragraphs.
        abstract="\n".join(clean(p) for p in _PARAGRAPH.split(_latex(fields.get("abstract", "")))),
        publication_type=kind,
        keywords=split_list(keywords, ",;"),
    )


def _verbatim(value: str) -> str:
    """A DOI or URL: braces and \\url{} dropped and escapes undone, but no LaTeX decoding."""
    value = re.sub(r"\\url\s*\{([^}]*)\}", r"\1", value)
    return re.sub(r"\\([_%&#~$])", r"\1", value).replace("{", "").replace("}", "").strip()


# pylatexenc decodes some 10,000-50,000 characters a second. Past this many characters per file
# the rest is decoded by the fast path or has its braces dropped, so that a file of LaTeX (20 MB
# of math would take an hour) cannot hold a worker; everyday files stay far below it.
LATEX_BUDGET_CHARS = 100_000


class _LatexBudget:
    """How many more characters of one file may go to pylatexenc."""

    def __init__(self, chars: int):
        self.chars = chars

    def take(self, n: int) -> bool:
        if n > self.chars:
            return False
        self.chars -= n
        return True


def _decode_latex(value: str, budget: _LatexBudget | None = None) -> str:
    """Text with LaTeX accents, escapes and protective braces decoded ({\\"o} -> ö)."""
    if not _LATEX_SPECIALS.search(value):
        return value
    fast = _fast_latex(value)
    if fast is not None:
        return fast
    if budget is not None and not budget.take(len(value)):
        return value.replace("{", "").replace("}", "")
    try:
        return _decoder().latex_to_text(_BARE_PERCENT.sub(r"\\%", value))
    except Exception:  # pylatexenc on malformed LaTeX; the raw text is better than nothing
        return value.replace("{", "").replace("}", "")


# pylatexenc takes milliseconds per value and Zotero braces nearly every title ("{COVID}-19"),
# so the everyday LaTeX is decoded here and only the rest (math, rare macros) goes to it.
_COMBINING = {
    '"': "\u0308",
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "u": "\u0306",
    "v": "\u030c",
    "H": "\u030b",
    "c": "\u0327",
    "k": "\u0328",
    "r": "\u030a",
}
_LETTERS = {"o": "ø", "O": "Ø", "aa": "å", "AA": "Å", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ"}
_LETTERS |= {"ss": "ß", "l": "ł", "L": "Ł", "i": "ı", "j": "ȷ"}
_BASE = r"(?:\\[ij](?![A-Za-z])|[A-Za-z])"
_SYMBOL_ACCENT = re.compile(r"\\([\"'`^~=.])\s*(?:\{\s*(" + _BASE + r")\s*\}|(" + _BASE + r"))")
_LETTER_ACCENT = re.compile(r"\\([uvHckr])(?:\s*\{\s*(" + _BASE + r")\s*\}|\s+(" + _BASE + r"))")
_SPECIAL_LETTER = re.compile(r"\\(aa|AA|ae|AE|oe|OE|ss|o|O|l|L|i|j)(?![A-Za-z])(?:\{\}|\s)?")
_STYLE_MACRO = re.compile(
    r"\\(?:textit|textbf|textsc|textrm|textsf|texttt|textup|emph|mbox)\s*(?=\{)"
)
_ESCAPED = re.compile(r"\\([&%$#_{}])")


def _fast_latex(value: str) -> str | None:
    """value decoded, or None when it holds LaTeX this function does not cover."""
    if "$" in value.replace("\\$", ""):
        return None

    def accent(match: re.Match) -> str:
        base = match.group(2) or match.group(3)
        base = {"\\i": "i", "\\j": "j"}.get(base, base)
        return base + _COMBINING[match.group(1)]

    text = _ESCAPED.sub(lambda m: f"\x00{ord(m.group(1))}\x01", value)
    text = _SYMBOL_ACCENT.sub(accent, text)
    text = _LETTER_ACCENT.sub(accent, text)
    text = _SPECIAL_LETTER.sub(lambda m: _LETTERS[m.group(1)], text)
    text = _STYLE_MACRO.sub("", text)
    if "\\" in text:
        return None
    text = text.replace("{", "").replace("}", "").replace("~", " ")
    text = text.replace("---", "—").replace("--", "–").replace("``", "“").replace("''", "”")
    text = re.sub("\x00(\\d+)\x01", lambda m: chr(int(m.group(1))), text)
    return unicodedata.normalize("NFC", text)


@functools.cache
def _decoder():
    from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

    # The same settings as bibtexparser's LatexDecodingMiddleware: \url{x} is just x, and
    # math stays verbatim ("$\alpha$") rather than being half-translated.
    context = get_default_latex_context_db()
    context.add_context_category(
        "bibtex", prepend=True, macros=[MacroTextSpec("url", simplify_repl="%s")]
    )
    return LatexNodes2Text(latex_context=context, math_mode="verbatim", keep_braced_groups=False)
