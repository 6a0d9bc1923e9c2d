from django.db import models

# A change of the rating rules is a new version; summaries and history record which one they used.
RULES_VERSION = 1


class Rating(models.TextChoices):
    """An element's evidence rating (EVIDENCE.md §4), from strongest to weakest."""

    STRONG = "strong", "Strong"
    MODERATE = "moderate", "Moderate"
    PROMISING = "promising", "Promising"
    MIXED = "mixed", "Mixed"
    NO_DETECTABLE_EFFECT = "no_detectable_effect", "No detectable effect"
    EMERGING = "emerging", "Emerging"
    NO_EVIDENCE = "no_evidence", "No evidence yet"


class JobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
