from django.db import models


class SessionKind(models.TextChoices):
    OPENING = "opening", "Opening"
    KEYNOTE = "keynote", "Keynote"
    RESEARCH = "research", "Research"
    COMMUNICATIONS = "communications", "Communications"
    CLOSING = "closing", "Closing"


class FindingKind(models.TextChoices):
    FINDING = "finding", "Finding"
    RECOMMENDATION = "recommendation", "Recommendation"
    OPEN_QUESTION = "open_question", "Open question"
    NEXT_STEP = "next_step", "Next step"


class Audience(models.TextChoices):
    POLICYMAKERS = "policymakers", "Policymakers"
    IMPLEMENTERS = "implementers", "District and school implementers"
    FUNDERS = "funders", "Funders"
    RESEARCHERS = "researchers", "Researchers"
    EDUCATORS = "educators", "Educators"
