"""Convenings API: explicit output serializers, separate input serializers for writes."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from frameworks.models import Element
from studies.models import Study

from ..constants import Audience, FindingKind, SessionKind
from ..models import Convening, Finding, Organization, Person, Presenter, Session
from .schema import NamedChoiceField


def session_kind(**kwargs) -> NamedChoiceField:
    return NamedChoiceField(choices=SessionKind.choices, enum_name="SessionKindEnum", **kwargs)


def finding_kind(**kwargs) -> NamedChoiceField:
    return NamedChoiceField(choices=FindingKind.choices, enum_name="FindingKindEnum", **kwargs)


class OrganizationSerializer(serializers.ModelSerializer):
    page = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "page"]
        read_only_fields = fields


class PersonSerializer(serializers.ModelSerializer):
    page = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Person
        fields = ["id", "name", "slug", "page"]
        read_only_fields = fields


class PresenterSerializer(serializers.ModelSerializer):
    """A person presenting in a session, with their title and organization at the time."""

    person = PersonSerializer(read_only=True)
    organization = OrganizationSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Presenter
        fields = ["id", "session", "person", "title", "organization", "summary", "order"]
        read_only_fields = fields


class PresenterInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, help_text="Reused when already recorded.")
    title = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    organization = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="Organization at the time, by name (reused when already recorded).",
    )
    summary = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class MediaLinkSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=200, required=False, allow_blank=True)
    url = serializers.URLField(max_length=1000)


class SessionSerializer(serializers.ModelSerializer):
    """One session of a convening's agenda, with its presenters."""

    convening = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    kind = session_kind(read_only=True)
    presenters = PresenterSerializer(many=True, read_only=True)
    media_links = MediaLinkSerializer(many=True, read_only=True)
    page = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Session
        fields = [
            "id",
            "convening",
            "order",
            "kind",
            "title",
            "summary",
            "media_links",
            "presenters",
            "version",
            "page",
        ]
        read_only_fields = fields


class SessionInputSerializer(serializers.Serializer):
    convening = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Convening.objects.all(),
        required=False,
        help_text="The convening's slug (on create only; a session does not move).",
    )
    kind = session_kind()
    title = serializers.CharField(max_length=300)
    summary = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    media_links = MediaLinkSerializer(many=True, required=False)
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="The version you edited (required on update)."
    )


class SessionMoveSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=["up", "down"])


class AgendaItemSerializer(serializers.ModelSerializer):
    kind = session_kind(read_only=True)

    class Meta:
        model = Session
        fields = ["id", "order", "kind", "title"]
        read_only_fields = fields


class ConveningSerializer(serializers.ModelSerializer):
    """A convening: who met, when, why, with whose support, and its agenda."""

    agenda = AgendaItemSerializer(many=True, read_only=True)
    page = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Convening
        fields = [
            "id",
            "slug",
            "title",
            "date",
            "date_text",
            "host",
            "context",
            "sponsor",
            "attendance",
            "researchers_count",
            "others_count",
            "goals",
            "summary",
            "agenda",
            "created_at",
            "updated_at",
            "version",
            "page",
        ]
        read_only_fields = fields


class ConveningInputSerializer(serializers.ModelSerializer):
    slug = serializers.SlugField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="On create only; made from the title when left out.",
    )
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="The version you edited (required on update)."
    )

    class Meta:
        model = Convening
        fields = [
            "slug",
            "title",
            "date",
            "date_text",
            "host",
            "context",
            "sponsor",
            "attendance",
            "researchers_count",
            "others_count",
            "goals",
            "summary",
            "version",
        ]
        extra_kwargs = {"slug": {"validators": []}}


@extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
class PublishedStudyIdsField(serializers.Field):
    """Output: the ids of the linked studies that are published (the prefetch filters them)."""

    def to_representation(self, value):
        return [study.pk for study in value.all()]


class FindingSerializer(serializers.ModelSerializer):
    """What a session (or a convening, or a report) found, recommended or left open."""

    convening = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    kind = finding_kind(read_only=True)
    # Blank means "no particular audience": say so in the schema.
    audience = serializers.ChoiceField(choices=Audience.choices, allow_blank=True, read_only=True)
    elements = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    studies = PublishedStudyIdsField(read_only=True)

    class Meta:
        model = Finding
        fields = [
            "id",
            "kind",
            "audience",
            "text",
            "quote",
            "attribution",
            "convening",
            "session",
            "source",
            "source_study",
            "elements",
            "studies",
            "order",
            "version",
        ]
        read_only_fields = fields


class FindingInputSerializer(serializers.Serializer):
    convening = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Convening.objects.all(),
        required=False,
        allow_null=True,
        help_text="On create: the convening (slug), for a finding of the convening as a whole.",
    )
    session = serializers.PrimaryKeyRelatedField(
        queryset=Session.objects.select_related("convening"),
        required=False,
        allow_null=True,
        help_text="On create: the session it came from.",
    )
    source = serializers.CharField(
        max_length=300,
        required=False,
        allow_blank=True,
        help_text="On create: the report it came from, when not a session.",
    )
    kind = finding_kind()
    audience = serializers.ChoiceField(
        choices=Audience.choices, required=False, allow_blank=True, allow_null=True
    )
    text = serializers.CharField(max_length=20000)
    quote = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    attribution = serializers.CharField(required=False, allow_blank=True, max_length=300)
    elements = serializers.SlugRelatedField(
        slug_field="code",
        many=True,
        required=False,
        queryset=Element.objects.current(),
        help_text="Framework element codes, e.g. LL.3.",
    )
    studies = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=Study.objects.published(),
        help_text="Ids of published studies.",
    )
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="The version you edited (required on update)."
    )
