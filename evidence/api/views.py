from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import RetrieveAPIView
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from frameworks.selectors import element_by_code
from studies import roles

from .. import gaps, selectors, services
from ..models import RecomputeJob
from .renderers import CSVRenderer
from .serializers import ElementEvidenceSerializer, GapReportSerializer, RecomputeJobSerializer


class IsCurator(permissions.BasePermission):
    message = "Only curators can do this."

    def has_permission(self, request, view) -> bool:
        return roles.has_role(request.user, roles.CURATOR)


class ElementEvidenceView(APIView):
    """The stored evidence summary of one element (rating, reasons, pooled estimate, by domain)."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=ElementEvidenceSerializer)
    def get(self, request, code: str):
        element = element_by_code(code)
        summaries = selectors.element_summaries(element)
        if summaries["overall"] is None:
            raise Http404("No evidence summary has been computed for this element yet.")
        serializer = ElementEvidenceSerializer(summaries["overall"], context=summaries)
        return Response(serializer.data)


class RecomputeView(APIView):
    """Enqueue a full recompute of every element's evidence; returns the job to poll."""

    permission_classes = [IsCurator]

    @extend_schema(request=None, responses={202: RecomputeJobSerializer})
    def post(self, request):
        job = services.recompute_job_start(user=request.user)
        return Response(RecomputeJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class JobView(RetrieveAPIView):
    """The state and progress of a recompute job."""

    permission_classes = [IsCurator]
    serializer_class = RecomputeJobSerializer

    def get_object(self):
        return get_object_or_404(
            RecomputeJob.objects.select_related("element"), pk=self.kwargs["pk"]
        )


def _param(name: str, description: str, type_=OpenApiTypes.STR, **kwargs) -> OpenApiParameter:
    return OpenApiParameter(name, type_, OpenApiParameter.QUERY, description=description, **kwargs)


GAP_PARAMETERS = [
    _param(
        "format",
        "`json` (default) or `csv`: the map (one row per cell) or, with `table=ranked`, the ranked list.",
        enum=["json", "csv"],
    ),
    _param(
        "table", "With `format=csv`: `matrix` (default) or `ranked`.", enum=["matrix", "ranked"]
    ),
    _param(
        "dimension",
        "The map's columns (default `outcome_domain`).",
        enum=list(gaps.DIMENSIONS),
    ),
    _param("component", "Only this component's elements, e.g. `LL`."),
    _param("grade_band", "Only studies in this grade band, e.g. `6-8`."),
    _param(
        "population",
        "Only studies on this population (its populations or a subgroup effect), e.g. `english_learners`.",
    ),
    _param("year_min", "Only studies published in or after this year.", OpenApiTypes.INT),
    _param("year_max", "Only studies published in or before this year.", OpenApiTypes.INT),
    _param("design", "Only studies of these designs (repeat the parameter).", many=True),
    _param(
        "include_under_review",
        "Also count studies submitted for review (curators only; ignored for everyone else).",
        OpenApiTypes.BOOL,
    ),
    _param(
        "recent_year",
        "Evidence only older than this year is a recency gap (default: ten years ago).",
        OpenApiTypes.INT,
    ),
    _param("gap", "List only ranked gaps of this kind.", enum=list(gaps.GAP_KINDS)),
    _param("equity_for", "Equity gaps of whole elements for this population only."),
]


class GapReportView(APIView):
    """The funder gap report: gap map, gap counts, equity table and ranked gaps (JSON or CSV)."""

    permission_classes = [permissions.AllowAny]
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, CSVRenderer]

    @extend_schema(
        parameters=GAP_PARAMETERS,
        responses={
            (200, "application/json"): GapReportSerializer,
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="The map or ranked list."
            ),
            (400, "application/json"): OpenApiResponse(description="Field-keyed errors."),
        },
    )
    def get(self, request):
        choices = gaps.filter_choices()
        filters, errors = gaps.parse_filters(
            request.query_params,
            choices=choices,
            may_include_under_review=roles.is_curator(request.user),
        )
        table = request.query_params.get("table", "matrix")
        if table not in ("matrix", "ranked"):
            errors["table"] = ["Either `matrix` or `ranked`."]
        if errors:
            raise ValidationError(errors)
        report = gaps.gap_report(filters=filters, choices=choices)
        if request.accepted_renderer.format != "csv":
            return Response(GapReportSerializer(report).data)
        rows = gaps.matrix_rows(report) if table == "matrix" else gaps.ranked_rows(report)
        disposition = f'attachment; filename="evidence-gaps-{table}.csv"'
        return Response(rows, headers={"Content-Disposition": disposition})
