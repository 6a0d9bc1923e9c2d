"""Studies API: thin viewsets over the studies services and selectors."""

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from config.concurrency import (
    CONFLICT,
    IF_MATCH_PARAM,
    MISSING_VERSION,
    etag,
    expected_version,
    stale,
)
from evidence.stats.effect_sizes import EffectSizeError

from .. import imports, roles, selectors, services
from ..filters import StudyFilterSet
from ..models import EffectSize, Study, StudyTag
from .permissions import ChildOfStudyPermission, StudyPermission
from .serializers import (
    STATISTIC_FIELDS,
    EffectSizeInputSerializer,
    EffectSizeSerializer,
    HistoryEntrySerializer,
    ReviewActionSerializer,
    StudyInputSerializer,
    StudySerializer,
    StudyTagInputSerializer,
    StudyTagSerializer,
)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def effect_values(data: dict) -> dict:
    """Split an effect input into the model's fields and the reported statistics."""
    reported = {name: data.pop(name) for name in STATISTIC_FIELDS if name in data}
    data["input_kind"] = data.pop("input")
    data["reported"] = reported
    return data


def save_effect(effect: EffectSize, *, user, version: int | None = None) -> EffectSize:
    try:
        return services.effect_save(effect=effect, user=user, expected_version=version)
    except EffectSizeError as exc:
        raise ValidationError({exc.field: [str(exc)]}) from exc


@extend_schema_view(
    list=extend_schema(summary="List studies (published ones for the public)"),
    retrieve=extend_schema(summary="One study", responses=StudySerializer),
    create=extend_schema(request=StudyInputSerializer, responses={201: StudySerializer}),
    partial_update=extend_schema(
        request=StudyInputSerializer,
        parameters=[IF_MATCH_PARAM],
        responses={200: StudySerializer, 409: CONFLICT, 412: CONFLICT, 428: MISSING_VERSION},
    ),
    update=extend_schema(
        request=StudyInputSerializer,
        parameters=[IF_MATCH_PARAM],
        responses={200: StudySerializer, 409: CONFLICT, 412: CONFLICT, 428: MISSING_VERSION},
    ),
)
class StudyViewSet(viewsets.ModelViewSet):
    serializer_class = StudySerializer
    permission_classes = [StudyPermission]
    filterset_class = StudyFilterSet
    ordering_fields = ["year", "title", "created_at", "updated_at", "essa_tier", "sample_size"]
    ordering = ["-year", "title"]

    def get_queryset(self):
        studies = Study.objects.visible_to(self.request.user)
        if self.action in ("effects", "tags", "history"):
            return studies  # they read the study's children, not its vocabularies
        return studies.prefetch_related(*selectors.study_codes_prefetch())

    def get_serializer_class(self):
        return (
            StudyInputSerializer
            if self.action in ("create", "update", "partial_update")
            else StudySerializer
        )

    def retrieve(self, request, *args, **kwargs):
        study = self.get_object()
        return Response(StudySerializer(study).data, headers={"ETag": etag("study", study)})

    def create(self, request, *args, **kwargs):
        serializer = StudyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("version", None)
        try:
            study = services.study_create(data=data, user=request.user)
        except services.DuplicateStudy as exc:
            raise ValidationError({"doi": [str(exc)]}) from exc
        return Response(
            StudySerializer(self._fresh(study)).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": etag("study", study)},
        )

    def update(self, request, *args, partial=False, **kwargs):
        study = self.get_object()
        serializer = StudyInputSerializer(study, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version, from_header = expected_version(request, data)
        try:
            study = services.study_update(
                study=study, data=data, user=request.user, expected_version=version
            )
        except services.StaleVersion as exc:
            return stale(exc, from_header)
        except services.DuplicateStudy as exc:
            raise ValidationError({"doi": [str(exc)]}) from exc
        return Response(
            StudySerializer(self._fresh(study)).data, headers={"ETag": etag("study", study)}
        )

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def perform_destroy(self, study):
        services.study_delete(study=study, user=self.request.user)

    def _fresh(self, study: Study) -> Study:
        return self.get_queryset().get(pk=study.pk)

    def _transition(self, request, name: str, *, comment_required: bool = False):
        study = self.get_object()
        serializer = ReviewActionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        comment = serializer.validated_data.get("comment", "")
        if comment_required and not comment.strip():
            raise ValidationError(
                {"comment": ["Say why, so the researcher knows what to do next."]}
            )
        try:
            study = services.study_transition(
                study=study, action=name, user=request.user, comment=comment
            )
        except services.InvalidTransition as exc:
            raise Conflict({"detail": str(exc), "status": study.status}) from exc
        return Response(StudySerializer(self._fresh(study)).data)

    @extend_schema(
        request=ReviewActionSerializer,
        responses={
            200: StudySerializer,
            409: OpenApiResponse(description="Not allowed from the current status."),
        },
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Submit a draft (or a returned study) for curator review."""
        return self._transition(request, "submit")

    @extend_schema(
        request=ReviewActionSerializer,
        responses={
            200: StudySerializer,
            409: OpenApiResponse(description="Not allowed from the current status."),
        },
    )
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Publish a submitted study (curators)."""
        return self._transition(request, "publish")

    @extend_schema(
        request=ReviewActionSerializer,
        responses={
            200: StudySerializer,
            409: OpenApiResponse(description="Not allowed from the current status."),
        },
    )
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):
        """Return a submitted study to its researcher with a comment (curators)."""
        return self._transition(request, "return", comment_required=True)

    @extend_schema(
        request=ReviewActionSerializer,
        responses={
            200: StudySerializer,
            409: OpenApiResponse(description="Not allowed from the current status."),
        },
    )
    @action(detail=True, methods=["post"])
    def retract(self, request, pk=None):
        """Retract a published study with a reason (curators)."""
        return self._transition(request, "retract", comment_required=True)

    @extend_schema(methods=["GET"], responses=EffectSizeSerializer(many=True))
    @extend_schema(
        methods=["POST"], request=EffectSizeInputSerializer, responses={201: EffectSizeSerializer}
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def effects(self, request, pk=None):
        """The study's effects; POST adds one, converted to Hedges' g."""
        study = self.get_object()
        if request.method == "GET":
            effects = study.effects.select_related("population").order_by("id")
            return Response(EffectSizeSerializer(effects, many=True).data)
        serializer = EffectSizeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = effect_values(dict(serializer.validated_data))
        data.pop("version", None)
        effect = save_effect(EffectSize(study=study, **data), user=request.user)
        return Response(EffectSizeSerializer(effect).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=StudyTagSerializer(many=True))
    @extend_schema(
        methods=["POST"], request=StudyTagInputSerializer, responses={201: StudyTagSerializer}
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def tags(self, request, pk=None):
        """The study's framework tags; POST adds one."""
        study = self.get_object()
        if request.method == "GET":
            tags = study.tags.select_related("element", "facet", "tagged_by").order_by("id")
            return Response(StudyTagSerializer(tags, many=True).data)
        serializer = StudyTagInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if StudyTag.objects.filter(
            study=study,
            element=serializer.validated_data["element"],
            facet=serializer.validated_data["facet"],
        ).exists():
            raise ValidationError({"element": ["This study is already tagged to that element."]})
        tag = services.tag_add(study=study, user=request.user, **serializer.validated_data)
        return Response(StudyTagSerializer(tag).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=HistoryEntrySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def history(self, request, pk=None):
        """Who changed what and when: the study, its effects and its tags."""
        return Response(
            HistoryEntrySerializer(selectors.study_history(self.get_object()), many=True).data
        )


@extend_schema_view(
    partial_update=extend_schema(
        request=EffectSizeInputSerializer,
        parameters=[IF_MATCH_PARAM],
        responses={
            200: EffectSizeSerializer,
            409: CONFLICT,
            412: CONFLICT,
            428: MISSING_VERSION,
        },
    ),
)
class EffectSizeViewSet(
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = EffectSizeSerializer
    permission_classes = [ChildOfStudyPermission]
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self):
        visible = Study.objects.visible_to(self.request.user)
        return EffectSize.objects.filter(study__in=visible).select_related("study", "population")

    def retrieve(self, request, *args, **kwargs):
        effect = self.get_object()
        return Response(EffectSizeSerializer(effect).data, headers={"ETag": etag("effect", effect)})

    def partial_update(self, request, *args, **kwargs):
        effect = self.get_object()
        serializer = EffectSizeInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version, from_header = expected_version(request, data)
        if "input" in data:
            effect.reported = {}
        statistics = {name: data.pop(name) for name in STATISTIC_FIELDS if name in data}
        if "input" in data:
            effect.input_kind = data.pop("input")
        effect.reported = {**effect.reported, **statistics}
        for name, value in data.items():
            setattr(effect, name, value)
        with transaction.atomic():
            try:
                effect = save_effect(effect, user=request.user, version=version)
            except services.StaleVersion as exc:
                return stale(exc, from_header)
        return Response(EffectSizeSerializer(effect).data, headers={"ETag": etag("effect", effect)})

    def perform_destroy(self, effect):
        services.effect_delete(effect=effect, user=self.request.user)


class StudyTagViewSet(mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    serializer_class = StudyTagSerializer
    permission_classes = [ChildOfStudyPermission]

    def get_queryset(self):
        visible = Study.objects.visible_to(self.request.user)
        return StudyTag.objects.filter(study__in=visible).select_related(
            "study", "element", "facet", "tagged_by"
        )

    def perform_destroy(self, tag):
        services.tag_remove(tag=tag, user=self.request.user)


# --- Imports of reference-manager files (RIS, BibTeX, CSV) ------------------------------------
# The serializers sit with their one view; studies.imports does the work for the page, the API
# and the import_references command alike.


@extend_schema_field(OpenApiTypes.BINARY)
class UploadField(serializers.FileField):
    """A file sent as multipart form data (binary in the schema, not a URL)."""


class ImportInputSerializer(serializers.Serializer):
    file = UploadField(
        help_text="A RIS, BibTeX or CSV export (Zotero, EndNote, Mendeley, ERIC, Scopus ...)."
    )
    format = serializers.ChoiceField(
        choices=list(imports.FORMAT_LABELS),
        required=False,
        allow_blank=True,
        help_text="ris, bibtex or csv; omit to detect it from the file name and content.",
    )
    dry_run = serializers.BooleanField(
        default=False, help_text="Classify the records and report, but create nothing."
    )

    def validate_file(self, upload):
        try:
            imports.import_check_size(upload.size)
        except imports.ImportRefused as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return upload


class ImportIssueSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    message = serializers.CharField()


class ImportRecordSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    status = serializers.CharField(help_text="new, duplicate or error.")
    title = serializers.CharField()
    year = serializers.IntegerField(allow_null=True)
    doi = serializers.CharField(allow_null=True, help_text="Normalised.")
    keywords = serializers.ListField(child=serializers.CharField())
    duplicate_of = serializers.IntegerField(
        source="duplicate_of_id", allow_null=True, help_text="The existing study's id."
    )
    duplicate_of_line = serializers.IntegerField(
        allow_null=True, help_text="The line of an earlier record of the same file."
    )
    message = serializers.CharField(help_text="Why the record is skipped.")


class ImportResultSerializer(serializers.Serializer):
    format = serializers.CharField(help_text="The format read: ris, bibtex or csv.")
    dry_run = serializers.BooleanField()
    new = serializers.IntegerField(help_text="Records that are neither duplicates nor errors.")
    created = serializers.IntegerField(help_text="Draft studies created (0 on a dry run).")
    duplicates = serializers.IntegerField(help_text="Records skipped as duplicates.")
    errors = ImportIssueSerializer(many=True, help_text="Records skipped, by line.")
    study_ids = serializers.ListField(child=serializers.IntegerField())
    records = ImportRecordSerializer(many=True, source="rows")


class ResearcherPermission(permissions.BasePermission):
    message = "Importing references needs the researcher role."

    def has_permission(self, request, view) -> bool:
        return roles.is_researcher(request.user)


class ImportView(APIView):
    permission_classes = [ResearcherPermission]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="Import a RIS, BibTeX or CSV file as draft studies",
        request={"multipart/form-data": ImportInputSerializer},
        responses={
            201: ImportResultSerializer,
            200: OpenApiResponse(
                ImportResultSerializer, description="A dry run, or nothing new to create."
            ),
            400: OpenApiResponse(
                description="Field errors: `file` too large or unreadable, `format` unknown."
            ),
            409: OpenApiResponse(description="A record failed to save: nothing was created."),
        },
    )
    def post(self, request):
        """New records become drafts owned by you, all or none; duplicates and errors are skipped."""
        serializer = ImportInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        try:
            result = imports.import_commit(
                data=upload.read(),
                user=request.user,
                filename=upload.name or "",
                format=serializer.validated_data.get("format") or None,
                dry_run=serializer.validated_data["dry_run"],
            )
        except imports.ImportRefused as exc:
            raise ValidationError({exc.field: [str(exc)]}) from exc
        except imports.ImportFailed as exc:
            return Response({"detail": str(exc), "line": exc.line}, status=status.HTTP_409_CONFLICT)
        code = status.HTTP_201_CREATED if result.study_ids else status.HTTP_200_OK
        return Response(ImportResultSerializer(result).data, status=code)
