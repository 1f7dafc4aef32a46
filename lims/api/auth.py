"""Tokens for scripts and instruments: hashed at rest, expiring, revocable (django-rest-knox)."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiResponse, extend_schema
from knox.models import get_token_model
from knox.settings import knox_settings
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from lims.api.authentication import TokenAuthentication
from lims.api.parsers import SafeJSONParser
from lims.api.renderers import SafeJSONRenderer
from lims.models import Membership, Role


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as `Authorization: Token <token>`. Shown once.")
    expiry = serializers.DateTimeField(allow_null=True, help_text="When the token stops working.")


class MembershipSummarySerializer(serializers.Serializer):
    lab = serializers.IntegerField(source="lab_id")
    lab_name = serializers.CharField(source="lab.name")
    role = serializers.ChoiceField(choices=Role.choices)


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField(source="get_full_name")
    memberships = MembershipSummarySerializer(many=True)


class TokenObtainView(APIView):
    """Exchange a user name and password for an API token."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    renderer_classes = [SafeJSONRenderer]
    parser_classes = [SafeJSONParser]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        summary="Get an API token",
        request=TokenRequestSerializer,
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(description="Wrong user name or password."),
            429: OpenApiResponse(description="Too many attempts; wait and try again."),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        body = TokenRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = authenticate(request, username=body.validated_data["username"], password=body.validated_data["password"])
        if user is None or not user.is_active:
            raise serializers.ValidationError(
                {"non_field_errors": ["Unable to sign in with this user name and password."]}
            )
        instance, token = get_token_model().objects.create(
            user=user, expiry=knox_settings.TOKEN_TTL, prefix=knox_settings.TOKEN_PREFIX
        )
        return Response(TokenSerializer({"token": token, "expiry": instance.expiry}).data)


class TokenRevokeView(APIView):
    """Revoke the token this request is made with."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]
    renderer_classes = [SafeJSONRenderer]
    parser_classes = [SafeJSONParser]

    @extend_schema(summary="Revoke this token", request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenRevokeAllView(APIView):
    """Revoke every token of the user (for example after a lost laptop)."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]
    renderer_classes = [SafeJSONRenderer]
    parser_classes = [SafeJSONParser]

    @extend_schema(summary="Revoke all your tokens", request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        request.user.auth_token_set.all().delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """Who the request is authenticated as, and their role in each lab."""

    permission_classes = [IsAuthenticated]
    renderer_classes = [SafeJSONRenderer]
    parser_classes = [SafeJSONParser]

    @extend_schema(summary="Who am I", responses=MeSerializer)
    def get(self, request: Request) -> Response:
        user = request.user
        memberships = Membership.objects.filter(user=user).select_related("lab").order_by("lab__name")
        return Response(
            MeSerializer(
                {
                    "id": user.pk,
                    "username": user.username,
                    "get_full_name": user.get_full_name(),
                    "memberships": memberships,
                }
            ).data
        )
