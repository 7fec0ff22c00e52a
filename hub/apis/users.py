"""REST API views: one APIView per operation, nested input/output serializers."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView


class UserMeApi(APIView):
    permission_classes = [IsAuthenticated]

    class OutputSerializer(serializers.Serializer):
        username = serializers.CharField()
        email = serializers.EmailField()
        date_joined = serializers.DateTimeField()

    def get(self, request):
        return Response(self.OutputSerializer(request.user).data)
