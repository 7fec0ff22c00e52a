"""Stars, comments and collaborators of a repository."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from hub import permissions, selectors
from hub.api_permissions import token_allows
from hub.apis.common import BaseApi, PaginatedApi, deny, errors, id_or_404, repository_for
from hub.apis.repositories import REPOSITORY_PARAMETERS
from hub.authentication import request_scopes
from hub.credentials import is_robot
from hub.models import COMMENT_MAX_LENGTH, Collaborator, Repository
from hub.services import social

ROBOT_MESSAGE = "Robot accounts do not star or comment: they push and pull."
SCOPE_MESSAGE = "Your access token's scopes are read-only; use a repo:write token."


def _social_write_check(request) -> None:
    """Starring and commenting need a signed-in caller whose token (if any) may write."""
    if not request.user.is_authenticated:
        raise exceptions.NotAuthenticated()
    if is_robot(request.user):
        raise exceptions.PermissionDenied(ROBOT_MESSAGE)
    if not token_allows(request, "push"):
        raise exceptions.PermissionDenied(SCOPE_MESSAGE)


# Stars ------------------------------------------------------------------------------------------


class StarStateSerializer(serializers.Serializer):
    starred = serializers.BooleanField()
    star_count = serializers.IntegerField()

    class Meta:
        ref_name = "StarState"


def _star_state(repository: Repository, starred: bool) -> dict:
    repository.refresh_from_db(fields=["star_count"])
    return {"starred": starred, "star_count": repository.star_count}


@extend_schema(parameters=REPOSITORY_PARAMETERS)
class RepositoryStarApi(BaseApi):
    """POST stars, DELETE unstars; both are idempotent."""

    @extend_schema(
        operation_id="repositories_star",
        request=None,
        responses={200: StarStateSerializer, **errors(401, 403, 404)},
    )
    def post(self, request, namespace, name):
        repository = repository_for(request, namespace, name)
        _social_write_check(request)
        social.repository_star(repository=repository, user=request.user)
        return Response(_star_state(repository, True))

    @extend_schema(
        operation_id="repositories_unstar",
        responses={200: StarStateSerializer, **errors(401, 403, 404)},
    )
    def delete(self, request, namespace, name):
        repository = repository_for(request, namespace, name)
        _social_write_check(request)
        social.repository_unstar(repository=repository, user=request.user)
        return Response(_star_state(repository, False))


class StargazerSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    starred_at = serializers.DateTimeField(source="created_at")

    class Meta:
        ref_name = "Stargazer"


@extend_schema(parameters=REPOSITORY_PARAMETERS)
class StargazerListApi(PaginatedApi):
    @extend_schema(
        operation_id="stargazers_list",
        responses={200: StargazerSerializer(many=True), **errors(401, 404)},
    )
    def get(self, request, namespace, name):
        repository = repository_for(request, namespace, name)
        return self.paginated(selectors.star_list(repository=repository), StargazerSerializer)


# Comments ---------------------------------------------------------------------------------------


class CommentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    author = serializers.CharField(source="author.username")
    body = serializers.CharField()
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "Comment"


class CommentInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=COMMENT_MAX_LENGTH)

    class Meta:
        ref_name = "CommentInput"


class CommentUpdateSerializer(serializers.Serializer):
    """PATCH: a missing body leaves the comment as it is."""

    body = serializers.CharField(max_length=COMMENT_MAX_LENGTH, required=False)

    class Meta:
        ref_name = "CommentUpdate"


@extend_schema(parameters=REPOSITORY_PARAMETERS)
class CommentListApi(PaginatedApi):
    @extend_schema(
        operation_id="comments_list",
        responses={200: CommentOutputSerializer(many=True), **errors(401, 404)},
    )
    def get(self, request, namespace, name):
        repository = repository_for(request, namespace, name)
        return self.paginated(
            selectors.comment_list(repository=repository), CommentOutputSerializer
        )

    @extend_schema(
        operation_id="comments_create",
        request=CommentInputSerializer,
        responses={201: CommentOutputSerializer, **errors(400, 401, 403, 404)},
    )
    def post(self, request, namespace, name):
        """At most COMMENTS_PER_MINUTE comments per user and minute, web and API together (429)."""
        repository = repository_for(request, namespace, name)
        _social_write_check(request)
        data = CommentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            comment = social.comment_add(
                repository=repository, author=request.user, body=data.validated_data["body"]
            )
        except social.CommentRateLimited as limited:
            raise exceptions.Throttled(wait=limited.wait) from None
        return Response(CommentOutputSerializer(comment).data, status=status.HTTP_201_CREATED)


@extend_schema(
    parameters=[*REPOSITORY_PARAMETERS, OpenApiParameter("comment_id", int, "path")],
)
class CommentDetailApi(BaseApi):
    def _comment(self, repository, comment_id):
        comment = (
            selectors.comment_list(repository=repository).filter(pk=id_or_404(comment_id)).first()
        )
        if comment is None:
            raise exceptions.NotFound("Comment not found.")
        return comment

    @extend_schema(
        operation_id="comments_retrieve",
        responses={200: CommentOutputSerializer, **errors(401, 404)},
    )
    def get(self, request, namespace, name, comment_id):
        repository = repository_for(request, namespace, name)
        return Response(CommentOutputSerializer(self._comment(repository, comment_id)).data)

    @extend_schema(
        operation_id="comments_update",
        request=CommentUpdateSerializer,
        responses={200: CommentOutputSerializer, **errors(400, 401, 403, 404)},
    )
    def patch(self, request, namespace, name, comment_id):
        repository = repository_for(request, namespace, name)
        comment = self._comment(repository, comment_id)
        _social_write_check(request)
        if comment.author_id != request.user.pk:
            raise exceptions.PermissionDenied("Only the author may edit a comment.")
        data = CommentUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if "body" in data.validated_data:
            comment = social.comment_edit(comment=comment, body=data.validated_data["body"])
        return Response(CommentOutputSerializer(comment).data)

    @extend_schema(
        operation_id="comments_destroy",
        responses={204: None, **errors(401, 403, 404)},
    )
    def delete(self, request, namespace, name, comment_id):
        repository = repository_for(request, namespace, name)
        comment = self._comment(repository, comment_id)
        _social_write_check(request)
        is_author = comment.author_id == request.user.pk
        if not is_author and not permissions.can_admin(
            request.user, repository, request_scopes(request)
        ):
            deny(request, "Only the author or a repository admin may delete a comment.")
        social.comment_delete(comment=comment)
        return Response(status=status.HTTP_204_NO_CONTENT)


# Collaborators ----------------------------------------------------------------------------------


class CollaboratorOutputSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    role = serializers.ChoiceField(choices=Collaborator.Role.choices)
    added_at = serializers.DateTimeField(source="created_at")

    class Meta:
        ref_name = "Collaborator"


class CollaboratorRoleSerializer(serializers.Serializer):
    """PATCH: a missing role leaves the collaborator as they are."""

    role = serializers.ChoiceField(choices=Collaborator.Role.choices, required=False)

    class Meta:
        ref_name = "CollaboratorRole"


@extend_schema(parameters=REPOSITORY_PARAMETERS)
class CollaboratorListApi(PaginatedApi):
    """Repository admins only."""

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=64)
        role = serializers.ChoiceField(choices=Collaborator.Role.choices)

        class Meta:
            ref_name = "CollaboratorAdd"

    @extend_schema(
        operation_id="collaborators_list",
        responses={200: CollaboratorOutputSerializer(many=True), **errors(401, 403, 404)},
    )
    def get(self, request, namespace, name):
        repository = repository_for(request, namespace, name, "admin")
        return self.paginated(
            selectors.collaborator_list(repository=repository), CollaboratorOutputSerializer
        )

    @extend_schema(
        operation_id="collaborators_create",
        request=InputSerializer,
        responses={201: CollaboratorOutputSerializer, **errors(400, 401, 403, 404)},
    )
    def post(self, request, namespace, name):
        repository = repository_for(request, namespace, name, "admin")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        collaborator = social.collaborator_add(repository=repository, **data.validated_data)
        return Response(
            CollaboratorOutputSerializer(collaborator).data, status=status.HTTP_201_CREATED
        )


@extend_schema(parameters=[*REPOSITORY_PARAMETERS, OpenApiParameter("username", str, "path")])
class CollaboratorDetailApi(BaseApi):
    """Repository admins only."""

    def _collaborator(self, repository, username):
        collaborator = (
            selectors.collaborator_list(repository=repository)
            .filter(user__username=username[:64].replace("\x00", ""))
            .first()
        )
        if collaborator is None:
            raise exceptions.NotFound("Collaborator not found.")
        return collaborator

    @extend_schema(
        operation_id="collaborators_retrieve",
        responses={200: CollaboratorOutputSerializer, **errors(401, 403, 404)},
    )
    def get(self, request, namespace, name, username):
        repository = repository_for(request, namespace, name, "admin")
        collaborator = self._collaborator(repository, username)
        return Response(CollaboratorOutputSerializer(collaborator).data)

    @extend_schema(
        operation_id="collaborators_update",
        request=CollaboratorRoleSerializer,
        responses={200: CollaboratorOutputSerializer, **errors(400, 401, 403, 404)},
    )
    def patch(self, request, namespace, name, username):
        repository = repository_for(request, namespace, name, "admin")
        collaborator = self._collaborator(repository, username)
        data = CollaboratorRoleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if "role" in data.validated_data:
            collaborator = social.collaborator_update(
                collaborator=collaborator, role=data.validated_data["role"]
            )
        return Response(CollaboratorOutputSerializer(collaborator).data)

    @extend_schema(
        operation_id="collaborators_destroy",
        responses={204: None, **errors(401, 403, 404)},
    )
    def delete(self, request, namespace, name, username):
        repository = repository_for(request, namespace, name, "admin")
        social.collaborator_remove(collaborator=self._collaborator(repository, username))
        return Response(status=status.HTTP_204_NO_CONTENT)
