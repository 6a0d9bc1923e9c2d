"""The actors the permission matrices (pages and API) run every request as, and who holds what.

``owner`` is the researcher who created the matrix's studies; ``researcher`` is another one;
``admin`` is a staff superuser, and staff hold every role. The users come from the ``actors``
fixture (tests/conftest.py).
"""

ACTORS = ("anonymous", "educator", "owner", "researcher", "curator", "organiser", "admin")
EVERYONE = frozenset(ACTORS)
NOBODY: frozenset[str] = frozenset()
RESEARCHERS = frozenset({"owner", "researcher", "curator", "admin"})  # curators hold its rights
CURATORS = frozenset({"curator", "admin"})
ORGANISERS = frozenset({"organiser", "admin"})
OWNER_AND_CURATORS = frozenset({"owner", "curator", "admin"})  # of the owner's unpublished study
OWNER = frozenset({"owner"})
