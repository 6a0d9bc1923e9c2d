from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.generics import RetrieveAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from frameworks.selectors import element_by_code
from studies import roles

from .. import selectors, services
from ..models import RecomputeJob
from .serializers import ElementEvidenceSerializer, RecomputeJobSerializer


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
