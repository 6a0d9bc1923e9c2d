"""The researcher's workspace, one module per concern: dashboard and lists, the study form,
effects with the calculator, tagging, curator review, and imports.

Views parse, call one service or selector, and render; studies.services writes, studies.selectors
reads, studies.imports imports.
"""
