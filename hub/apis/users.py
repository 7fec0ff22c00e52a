"""The signed-in user."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from hub.apis.common import BaseApi, errors


class UserMeApi(BaseApi):
    permission_classes = [IsAuthenticated]

    class OutputSerializer(serializers.Serializer):
        username = serializers.CharField()
        email = serializers.CharField(allow_blank=True)
        full_name = serializers.CharField(source="get_full_name", allow_blank=True)
        bio = serializers.CharField(allow_blank=True)
        date_joined = serializers.DateTimeField()
        is_staff = serializers.BooleanField()

        class Meta:
            ref_name = "UserMe"

    @extend_schema(operation_id="users_me", responses={200: OutputSerializer, **errors(401)})
    def get(self, request):
        return Response(self.OutputSerializer(request.user).data)
