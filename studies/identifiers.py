"""Natural keys of a study: the normalised DOI, else the normalised title with the year."""

import re
import unicodedata

_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_DOI_SHAPE = re.compile(r"^10\.\d{4,9}/\S+$")


class InvalidDOI(ValueError):
    pass


def normalize_doi(raw: str | None) -> str | None:
    """The DOI in one spelling: no resolver prefix, lower case (DOIs are case-insensitive).

    Returns None for an empty value; raises InvalidDOI for text that is not a DOI.
    """
    if raw is None:
        return None
    doi = _DOI_PREFIX.sub("", raw.strip()).strip().rstrip(".").lower()
    if not doi:
        return None
    if not _DOI_SHAPE.match(doi):
        raise InvalidDOI(f"“{raw}” is not a DOI (expected something like 10.1234/abcd).")
    return doi


def normalize_title(title: str) -> str:
    """The title folded for duplicate detection: accents, case, punctuation and spacing removed."""
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", folded.lower())
    return " ".join(words)
