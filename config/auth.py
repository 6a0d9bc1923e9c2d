"""Token authentication for scripts: POST username and password to get a token, DELETE to revoke it."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import NotAuthenticated, Throttled, ValidationError
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from .security import login_failed, login_is_locked, login_succeeded


class ObtainTokenView(ObtainAuthToken):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    def post(self, request, *args, **kwargs):
        # The same per-account lock as the sign-in pages: the scoped throttle alone bounds one
        # address, not a slow guess at one account.
        username = str(request.data.get("username", ""))
        if login_is_locked(request, username):
            raise Throttled(detail="Too many failed sign-in attempts for this account; wait.")
        try:
            response = super().post(request, *args, **kwargs)
        except ValidationError:
            login_failed(request, username)
            raise
        login_succeeded(request, username)
        return response

    @extend_schema(
        summary="Revoke your API token",
        request=None,
        responses={
            204: OpenApiResponse(description="The token no longer works; POST for a new one."),
            401: OpenApiResponse(description="Not signed in (send the token to revoke it)."),
        },
    )
    def delete(self, request, *args, **kwargs):
        """Revoke the caller's token (a leaked token stops working at once). Admins revoke anyone's
        token in the admin (Auth Token → delete)."""
        if not request.user.is_authenticated:
            raise NotAuthenticated()
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
