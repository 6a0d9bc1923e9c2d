"""Convenings API: thin viewsets over the convenings services and selectors.

Public reads; writes for convening organisers, through the same services as the organiser's
pages. Edits carry the `version` read (or an If-Match ETag): a stale one is a 409 (412 for
If-Match) with the current version, a missing one a 428.
"""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Prefetch
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings

from config.concurrency import (
    CONFLICT,
    IF_MATCH_PARAM,
    MISSING_VERSION,
    etag,
    expected_version,
    stale,
)

from .. import selectors, services
from ..filters import ConveningFilterSet, FindingFilterSet, SessionFilterSet
from ..models import Convening, Finding, Presenter, Session
from .permissions import OrganiserWritesPermission
from .serializers import (
    ConveningInputSerializer,
    ConveningSerializer,
    FindingInputSerializer,
    FindingSerializer,
    PresenterInputSerializer,
    PresenterSerializer,
    SessionInputSerializer,
    SessionMoveSerializer,
    SessionSerializer,
)


def field_errors(exc: DjangoValidationError) -> ValidationError:
    """A service's validation error as DRF's field-keyed 400."""
    errors = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
    return ValidationError(
        {
            api_settings.NON_FIELD_ERRORS_KEY if k == NON_FIELD_ERRORS else k: v
            for k, v in errors.items()
        }
    )


def _write_schema(input_serializer, output_serializer):
    return {
        "create": extend_schema(request=input_serializer, responses={201: output_serializer}),
        "partial_update": extend_schema(
            request=input_serializer,
            parameters=[IF_MATCH_PARAM],
            responses={200: output_serializer, 409: CONFLICT, 412: CONFLICT, 428: MISSING_VERSION},
        ),
        "update": extend_schema(
            request=input_serializer,
            parameters=[IF_MATCH_PARAM],
            responses={200: output_serializer, 409: CONFLICT, 412: CONFLICT, 428: MISSING_VERSION},
        ),
    }


class VersionedViewSet(viewsets.ModelViewSet):
    """Reads with an ETag; create, update and delete through the subclass's service calls."""

    permission_classes = [OrganiserWritesPermission]
    input_serializer_class: type | None = None  # what create and update accept
    etag_kind = ""

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return self.input_serializer_class
        return self.serializer_class

    def retrieve(self, request, *args, **kwargs):
        obj = self.get_object()
        return Response(
            self.serializer_class(obj).data, headers={"ETag": etag(self.etag_kind, obj)}
        )

    def create(self, request, *args, **kwargs):
        serializer = self.input_serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("version", None)
        try:
            obj = self.perform_create_from(data)
        except DjangoValidationError as exc:
            raise field_errors(exc) from exc
        return self._saved(obj, status.HTTP_201_CREATED)

    def update(self, request, *args, partial=False, **kwargs):
        obj = self.get_object()
        serializer = self.input_serializer_class(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version, from_header = expected_version(request, data)
        try:
            obj = self.perform_update_from(obj, data, version)
        except services.StaleVersion as exc:
            return stale(exc, from_header)
        except DjangoValidationError as exc:
            raise field_errors(exc) from exc
        return self._saved(obj, status.HTTP_200_OK)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def _saved(self, obj, code: int) -> Response:
        fresh = self.get_queryset().get(pk=obj.pk)
        return Response(
            self.serializer_class(fresh).data,
            status=code,
            headers={"ETag": etag(self.etag_kind, fresh)},
        )

    def perform_create_from(self, data: dict):
        raise NotImplementedError

    def perform_update_from(self, obj, data: dict, version: int):
        raise NotImplementedError


@extend_schema_view(
    list=extend_schema(summary="List convenings, newest first"),
    retrieve=extend_schema(summary="One convening with its agenda"),
    **_write_schema(ConveningInputSerializer, ConveningSerializer),
)
class ConveningViewSet(VersionedViewSet):
    serializer_class = ConveningSerializer
    input_serializer_class = ConveningInputSerializer
    etag_kind = "convening"
    filterset_class = ConveningFilterSet
    ordering_fields = ["date", "title", "created_at"]
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"

    def get_queryset(self):
        agenda = Session.objects.only("pk", "order", "kind", "title", "convening_id")
        return Convening.objects.prefetch_related(
            Prefetch("sessions", queryset=agenda.order_by("order"), to_attr="agenda")
        ).order_by(F("date").desc(nulls_last=True), "-created_at")

    def perform_create_from(self, data):
        slug = data.pop("slug", "") or ""
        return services.convening_create(data=data, slug=slug, user=self.request.user)

    def perform_update_from(self, convening, data, version):
        if data.pop("slug", convening.slug) not in ("", convening.slug):
            raise ValidationError({"slug": ["A convening keeps its slug (its pages' address)."]})
        return services.convening_update(
            convening=convening, data=data, user=self.request.user, expected_version=version
        )

    def perform_destroy(self, convening):
        services.convening_delete(convening=convening, user=self.request.user)


@extend_schema_view(
    list=extend_schema(summary="List sessions with their presenters"),
    retrieve=extend_schema(summary="One session with its presenters"),
    **_write_schema(SessionInputSerializer, SessionSerializer),
)
class SessionViewSet(VersionedViewSet):
    serializer_class = SessionSerializer
    input_serializer_class = SessionInputSerializer
    etag_kind = "session"
    filterset_class = SessionFilterSet
    ordering_fields = ["order", "title"]

    def get_queryset(self):
        presenters = Presenter.objects.select_related("person", "organization").order_by("order")
        return (
            Session.objects.select_related("convening")
            .prefetch_related(Prefetch("presenters", queryset=presenters))
            .order_by(F("convening__date").desc(nulls_last=True), "convening_id", "order")
        )

    def perform_create_from(self, data):
        convening = data.pop("convening", None)
        if convening is None:
            raise ValidationError({"convening": ["Say which convening (its slug)."]})
        return services.session_add(convening=convening, data=data, user=self.request.user)

    def perform_update_from(self, session, data, version):
        convening = data.pop("convening", None)
        if convening is not None and convening.pk != session.convening_id:
            raise ValidationError({"convening": ["A session stays with its convening."]})
        return services.session_update(
            session=session, data=data, user=self.request.user, expected_version=version
        )

    def perform_destroy(self, session):
        services.session_delete(session=session, user=self.request.user)

    @extend_schema(request=SessionMoveSerializer, responses=SessionSerializer)
    @action(detail=True, methods=["post"], filterset_class=None)
    def move(self, request, pk=None):
        """Move the session one place up or down its convening's agenda."""
        serializer = SessionMoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = services.session_move(
            session=self.get_object(), user=request.user, **serializer.validated_data
        )
        return self._saved(session, status.HTTP_200_OK)

    @extend_schema(methods=["GET"], responses=PresenterSerializer(many=True))
    @extend_schema(
        methods=["POST"], request=PresenterInputSerializer, responses={201: PresenterSerializer}
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def presenters(self, request, pk=None):
        """The session's presenters; POST adds one, reusing the person and organization."""
        session = self.get_object()
        if request.method == "GET":
            return Response(PresenterSerializer(session.presenters.all(), many=True).data)
        serializer = PresenterInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            presenter = services.presenter_add(
                session=session, user=request.user, **serializer.validated_data
            )
        except DjangoValidationError as exc:
            raise field_errors(exc) from exc
        return Response(PresenterSerializer(presenter).data, status=status.HTTP_201_CREATED)


class PresenterViewSet(
    mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = PresenterSerializer
    permission_classes = [OrganiserWritesPermission]

    def get_queryset(self):
        return Presenter.objects.select_related("person", "organization")

    def perform_destroy(self, presenter):
        services.presenter_remove(presenter=presenter, user=self.request.user)


@extend_schema_view(
    list=extend_schema(summary="List findings, recommendations, open questions and next steps"),
    retrieve=extend_schema(summary="One finding with its links"),
    **_write_schema(FindingInputSerializer, FindingSerializer),
)
class FindingViewSet(VersionedViewSet):
    serializer_class = FindingSerializer
    input_serializer_class = FindingInputSerializer
    etag_kind = "finding"
    filterset_class = FindingFilterSet
    ordering_fields = ["kind", "audience", "order"]

    def get_queryset(self):
        return selectors.findings_with_links(Finding.objects.all())

    def perform_create_from(self, data):
        return services.finding_add(user=self.request.user, **data)

    def perform_update_from(self, finding, data, version):
        moved = [name for name in ("convening", "session", "source") if name in data]
        if moved:
            raise ValidationError(
                {
                    name: ["A finding keeps where it came from; add a new one instead."]
                    for name in moved
                }
            )
        return services.finding_update(
            finding=finding, data=data, user=self.request.user, expected_version=version
        )

    def perform_destroy(self, finding):
        services.finding_delete(finding=finding, user=self.request.user)
