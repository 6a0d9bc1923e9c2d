"""The API's optimistic-concurrency contract, shared by every app's API.

Every editable record carries `version`. A write sends back the version it edited, in the body or
as the ETag in `If-Match`; a stale one is refused with 409 (412 for If-Match) and the current
version, a missing one with 428, so no client can overwrite someone else's change unknowingly.
"""

import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response


class PreconditionRequired(APIException):
    status_code = 428
    default_detail = "Send the version you edited (a `version` field or an If-Match header)."
    default_code = "precondition_required"


IF_MATCH = re.compile(r'^(?:W/)?"?[a-z]*-?\d*-?v?(\d+)"?$')
IF_MATCH_PARAM = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="The ETag you read (alternative to a `version` field).",
)
CONFLICT = OpenApiResponse(
    description="The record changed since you read it; the body gives the current version."
)
MISSING_VERSION = OpenApiResponse(description="No `version` field and no If-Match header.")


def etag(kind: str, obj) -> str:
    return f'"{kind}-{obj.pk}-v{obj.version}"'


def expected_version(request, data: dict) -> tuple[int, bool]:
    """The version the client edited, from the body or If-Match; (version, came_from_header)."""
    if data.get("version") is not None:
        return int(data.pop("version")), False
    data.pop("version", None)
    match = IF_MATCH.match(request.headers.get("If-Match", "").strip())
    if match:
        return int(match.group(1)), True
    raise PreconditionRequired()


def stale(exc, from_header: bool) -> Response:
    """409 (stale `version`) or 412 (stale If-Match), with the current version to reload."""
    code = status.HTTP_412_PRECONDITION_FAILED if from_header else status.HTTP_409_CONFLICT
    return Response({"detail": str(exc), "current_version": exc.current_version}, status=code)
