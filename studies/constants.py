"""Controlled vocabularies for studies: one place each.

Single-valued vocabularies that rules depend on (design, outcome domain, review status...) are
TextChoices here. Multi-valued descriptive vocabularies (grade bands, populations, subjects,
settings) are data rows (see ``studies.models.Vocabulary``) whose codes are listed here once, so
the data migration that creates them and any code that names one use the same spelling.
"""

from django.db import models


class Design(models.TextChoices):
    RCT = "rct", "Randomized controlled trial"
    CLUSTER_RCT = "cluster_rct", "Cluster-randomized trial"
    QED = "qed", "Quasi-experimental design"
    RDD = "rdd", "Regression discontinuity design"
    CORRELATIONAL = "correlational", "Correlational study with statistical controls"
    CORRELATIONAL_UNCONTROLLED = (
        "correlational_uncontrolled",
        "Correlational study without controls",
    )
    SINGLE_CASE = "single_case", "Single-case design"
    QUALITATIVE = "qualitative", "Qualitative study"
    DESCRIPTIVE = "descriptive", "Descriptive study"
    MIXED_METHODS = "mixed_methods", "Mixed-methods study"
    THEORETICAL = "theoretical", "Theory or logic model"
    META_ANALYSIS = "meta_analysis", "Meta-analysis"
    SYSTEMATIC_REVIEW = "systematic_review", "Systematic or literature review"
    NOT_YET_CODED = "not_yet_coded", "Not yet coded"


RANDOMIZED_DESIGNS = frozenset({Design.RCT, Design.CLUSTER_RCT})
QUASI_EXPERIMENTAL_DESIGNS = frozenset({Design.QED, Design.RDD})
SYNTHESIS_DESIGNS = frozenset({Design.META_ANALYSIS, Design.SYSTEMATIC_REVIEW})


class OutcomeDomain(models.TextChoices):
    MATHEMATICS = "mathematics", "Mathematics achievement"
    LITERACY = "literacy", "Reading and literacy achievement"
    SCIENCE = "science", "Science achievement"
    GENERAL_ACHIEVEMENT = "general_achievement", "General academic achievement"
    SOCIAL_EMOTIONAL = "social_emotional", "Social-emotional skills"
    ENGAGEMENT = "engagement", "Engagement and motivation"
    SELF_REGULATION = "self_regulation", "Self-regulation and metacognition"
    BEHAVIOR = "behavior", "Behavior and discipline"
    ATTENDANCE = "attendance", "Attendance"
    COMPLETION = "completion", "Progression and completion"
    POSTSECONDARY = "postsecondary", "College and career outcomes"
    TEACHER_PRACTICE = "teacher_practice", "Teacher practice"


# Default intraclass correlations for the cluster correction when a study reports none
# (EVIDENCE.md §1): 0.20 for achievement, 0.10 for behavioural outcomes.
ACHIEVEMENT_DOMAINS = frozenset(
    {
        OutcomeDomain.MATHEMATICS,
        OutcomeDomain.LITERACY,
        OutcomeDomain.SCIENCE,
        OutcomeDomain.GENERAL_ACHIEVEMENT,
    }
)


class PublicationType(models.TextChoices):
    JOURNAL_ARTICLE = "journal_article", "Journal article"
    REPORT = "report", "Report"
    WORKING_PAPER = "working_paper", "Working paper"
    BOOK = "book", "Book"
    BOOK_CHAPTER = "book_chapter", "Book chapter"
    DISSERTATION = "dissertation", "Dissertation"
    CONFERENCE_PAPER = "conference_paper", "Conference paper"
    WEB_PAGE = "web_page", "Web page or blog post"
    OTHER = "other", "Other"


class SampleUnit(models.TextChoices):
    STUDENTS = "students", "Students"
    TEACHERS = "teachers", "Teachers"
    SCHOOLS = "schools", "Schools"
    CLASSROOMS = "classrooms", "Classrooms"
    DISTRICTS = "districts", "Districts"
    STUDIES = "studies", "Studies (for a synthesis)"
    ADULTS = "adults", "Adult learners"


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted for review"
    RETURNED = "returned", "Returned to the researcher"
    PUBLISHED = "published", "Published"
    RETRACTED = "retracted", "Retracted"


class WWCRating(models.TextChoices):
    MEETS_WITHOUT_RESERVATIONS = "meets_without", "Meets standards without reservations"
    MEETS_WITH_RESERVATIONS = "meets_with", "Meets standards with reservations"
    DOES_NOT_MEET = "does_not_meet", "Does not meet standards"
    NOT_REVIEWED = "not_reviewed", "Not reviewed"


class Attrition(models.TextChoices):
    LOW = "low", "Low"
    HIGH = "high", "High"
    NOT_APPLICABLE = "not_applicable", "Not applicable"
    UNKNOWN = "unknown", "Not reported"


class BaselineEquivalence(models.TextChoices):
    ESTABLISHED = "established", "Established"
    NOT_ESTABLISHED = "not_established", "Not established"
    NOT_APPLICABLE = "not_applicable", "Not applicable (randomized, low attrition)"
    UNKNOWN = "unknown", "Not reported"


class EssaTier(models.IntegerChoices):
    STRONG = 1, "Tier 1 – Strong evidence"
    MODERATE = 2, "Tier 2 – Moderate evidence"
    PROMISING = 3, "Tier 3 – Promising evidence"
    RATIONALE = 4, "Tier 4 – Demonstrates a rationale"


class Relevance(models.TextChoices):
    PRIMARY = "primary", "Primary"
    SECONDARY = "secondary", "Secondary"


class EffectInput(models.TextChoices):
    """How an effect was reported, and so which conversion turns it into Hedges' g."""

    SMD = "smd", "Reported g or d (with SE, variance or CI)"
    MEANS = "means", "Means, SDs and group sizes"
    T = "t", "t statistic"
    F = "f", "F statistic (two groups)"
    P = "p", "p value"
    ODDS_RATIO = "odds_ratio", "Odds ratio"
    TWO_BY_TWO = "two_by_two", "2×2 table"
    R = "r", "Correlation r"
    PERCENTILE_POINTS = "percentile_points", "Improvement index (percentile points)"


class Direction(models.TextChoices):
    FAVORABLE = "favorable", "Favorable"
    UNFAVORABLE = "unfavorable", "Unfavorable"
    NULL = "null", "No detectable effect"


# Descriptive vocabularies kept as data rows. (code, label) in display order.
GRADE_BANDS = [
    ("prek", "Pre-K"),
    ("k-2", "Grades K–2"),
    ("3-5", "Grades 3–5"),
    ("6-8", "Grades 6–8"),
    ("9-12", "Grades 9–12"),
    ("postsecondary", "Postsecondary"),
]

POPULATIONS = [
    ("low_income", "Students from low-income families"),
    ("english_learners", "English learners"),
    ("students_with_disabilities", "Students with disabilities"),
    ("black", "Black students"),
    ("hispanic_latino", "Hispanic/Latino students"),
    ("asian", "Asian American students"),
    ("native_american", "American Indian and Alaska Native students"),
    ("multiracial", "Multiracial students"),
    ("white", "White students"),
    ("girls", "Girls"),
    ("boys", "Boys"),
    ("at_risk", "Students at risk of dropping out"),
    ("first_generation", "First-generation college students"),
    ("gifted", "Gifted and talented students"),
    ("adult_learners", "Adult learners"),
]

SUBJECTS = [
    ("mathematics", "Mathematics"),
    ("ela", "English language arts and reading"),
    ("science", "Science"),
    ("social_studies", "Social studies"),
    ("computer_science", "Computer science"),
    ("sel", "Social-emotional learning"),
    ("multiple", "Multiple subjects"),
]

SETTINGS = [
    ("urban", "Urban"),
    ("suburban", "Suburban"),
    ("rural", "Rural"),
    ("classroom", "In the classroom"),
    ("school_wide", "School-wide model"),
    ("online_blended", "Online or blended"),
    ("out_of_school", "Out of school (after-school, community, workplace)"),
    ("community_college", "Community college"),
]


class ImportBatchStatus(models.TextChoices):
    """Where a large import stands: previewed in the background, confirmed, imported in it."""

    QUEUED = "queued", "Waiting to be checked"
    CHECKING = "checking", "Being checked"
    READY = "ready", "Checked, waiting for confirmation"
    CONFIRMED = "confirmed", "Confirmed, waiting to be imported"
    IMPORTING = "importing", "Being imported"
    DONE = "done", "Imported"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
