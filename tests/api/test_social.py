"""Stars, stargazers, comments and collaborators over the API."""

from __future__ import annotations

import pytest

from hub.models import Collaborator, Comment, Star
from tests import factories
from tests.api.conftest import API

APP = f"{API}/repositories/alice/app"
SECRET = f"{API}/repositories/alice/secret"


# Stars ----------------------------------------------------------------------------------------


def test_star_and_unstar_are_idempotent(as_user, charlie, public_repo):
    client = as_user(charlie)
    assert client.post(f"{APP}/star/").json() == {"starred": True, "star_count": 1}
    assert client.post(f"{APP}/star/").json() == {"starred": True, "star_count": 1}
    stargazers = client.get(f"{APP}/stargazers/").json()
    assert [s["username"] for s in stargazers["results"]] == ["charlie"]
    assert client.delete(f"{APP}/star/").json() == {"starred": False, "star_count": 0}
    assert client.delete(f"{APP}/star/").json() == {"starred": False, "star_count": 0}


def test_star_needs_sign_in_visibility_and_a_writing_token(
    api, as_user, as_token, charlie, public_repo, private_repo
):
    assert api.post(f"{APP}/star/").status_code == 401
    assert as_user(charlie).post(f"{SECRET}/star/").status_code == 404
    assert as_token(charlie, "repo:read").post(f"{APP}/star/").status_code == 403
    assert as_token(charlie, "repo:write").post(f"{APP}/star/").status_code == 200
    assert api.get(f"{SECRET}/stargazers/").status_code == 404


# Comments -------------------------------------------------------------------------------------


def test_comment_is_created_edited_listed_and_deleted(as_user, alice, charlie, public_repo):
    client = as_user(charlie)
    created = client.post(f"{APP}/comments/", {"body": " Nice! "}, format="json")
    assert created.status_code == 201, created.content
    comment = created.json()
    assert comment["author"] == "charlie" and comment["body"] == "Nice!"
    assert comment["edited_at"] is None
    url = f"{APP}/comments/{comment['id']}/"
    assert client.patch(url, {}, format="json").json()["edited_at"] is None
    edited = client.patch(url, {"body": "Very nice"}, format="json").json()
    assert edited["body"] == "Very nice" and edited["edited_at"]
    listed = as_user(alice).get(f"{APP}/comments/").json()
    assert [c["body"] for c in listed["results"]] == ["Very nice"]
    assert client.get(url).status_code == 200
    assert client.delete(url).status_code == 204
    assert not Comment.objects.exists()


def test_comments_respect_comments_enabled(as_user, charlie, public_repo):
    public_repo.comments_enabled = False
    public_repo.save()
    response = as_user(charlie).post(f"{APP}/comments/", {"body": "hi"}, format="json")
    assert response.status_code == 400 and "body" in response.json()


def test_empty_or_oversized_comment_is_refused(as_user, charlie, public_repo):
    client = as_user(charlie)
    assert client.post(f"{APP}/comments/", {}, format="json").status_code == 400
    assert client.post(f"{APP}/comments/", {"body": "x" * 5001}, format="json").status_code == 400


def test_comments_past_the_rate_limit_are_throttled(as_user, charlie, public_repo, settings):
    settings.COMMENTS_PER_MINUTE = 3
    client = as_user(charlie)
    for n in range(3):
        assert client.post(f"{APP}/comments/", {"body": f"c{n}"}, format="json").status_code == 201
    refused = client.post(f"{APP}/comments/", {"body": "one more"}, format="json")
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("Request was throttled.")
    assert 1 <= int(refused["Retry-After"]) <= 61
    assert Comment.objects.count() == 3


def test_the_comment_rate_limit_is_shared_by_web_and_api(
    client, as_user, charlie, public_repo, settings
):
    settings.COMMENTS_PER_MINUTE = 2
    client.force_login(charlie)
    assert client.post("/r/alice/app/-/comments/", {"body": "web"}).status_code == 302
    assert (
        as_user(charlie).post(f"{APP}/comments/", {"body": "api"}, format="json").status_code == 201
    )
    assert (
        as_user(charlie).post(f"{APP}/comments/", {"body": "3"}, format="json").status_code == 429
    )
    response = client.post("/r/alice/app/-/comments/", {"body": "web again"}, follow=True)
    assert "too fast" in response.content.decode()
    assert Comment.objects.count() == 2


def test_comment_body_is_capped_on_edit_and_in_the_service(as_user, charlie, public_repo):
    from django.core.exceptions import ValidationError

    from hub.services import social

    with pytest.raises(ValidationError):
        social.comment_add(repository=public_repo, author=charlie, body="x" * 5001)
    comment = factories.CommentFactory(repository=public_repo, author=charlie)
    url = f"{APP}/comments/{comment.pk}/"
    assert as_user(charlie).patch(url, {"body": "x" * 5001}, format="json").status_code == 400


def test_comment_list_is_paginated(api, charlie, public_repo):
    Comment.objects.bulk_create(
        Comment(repository=public_repo, author=charlie, body=f"c{n}") for n in range(130)
    )
    page = api.get(f"{APP}/comments/", {"page_size": 1000}).json()
    assert page["count"] == 130 and len(page["results"]) == 100 and page["next"]


def test_only_the_author_edits_and_author_or_admin_deletes(
    as_user, alice, bob, charlie, public_repo
):
    comment = factories.CommentFactory(repository=public_repo, author=charlie)
    url = f"{APP}/comments/{comment.pk}/"
    assert as_user(alice).patch(url, {"body": "x"}, format="json").status_code == 403
    assert as_user(bob).delete(url).status_code == 403
    assert as_user(alice).delete(url).status_code == 204


def test_anonymous_reads_but_cannot_write_comments(api, charlie, public_repo):
    comment = factories.CommentFactory(repository=public_repo, author=charlie)
    assert api.get(f"{APP}/comments/").json()["count"] == 1
    assert api.post(f"{APP}/comments/", {"body": "x"}, format="json").status_code == 401
    assert api.delete(f"{APP}/comments/{comment.pk}/").status_code == 401


@pytest.mark.parametrize("bad_id", ["abc", "0", "-1", "99999999999999999999999", "1.5", "٣"])
def test_malformed_comment_ids_are_404(api, public_repo, bad_id):
    assert api.get(f"{APP}/comments/{bad_id}/").status_code == 404


def test_comments_of_private_repositories_are_hidden(as_user, charlie, bob, private_repo, alice):
    comment = factories.CommentFactory(repository=private_repo, author=alice)
    assert as_user(charlie).get(f"{SECRET}/comments/").status_code == 404
    assert as_user(charlie).get(f"{SECRET}/comments/{comment.pk}/").status_code == 404
    assert as_user(bob).get(f"{SECRET}/comments/").json()["count"] == 1


def test_comment_of_another_repository_is_404(api, alice, public_repo):
    other = factories.RepositoryFactory(namespace=alice.namespace, name="other")
    comment = factories.CommentFactory(repository=other, author=alice)
    assert api.get(f"{APP}/comments/{comment.pk}/").status_code == 404


def test_read_only_token_cannot_comment(as_token, charlie, public_repo):
    response = as_token(charlie, "repo:read").post(f"{APP}/comments/", {"body": "x"}, format="json")
    assert response.status_code == 403


# Collaborators --------------------------------------------------------------------------------


def test_collaborator_is_added_changed_and_removed(as_user, alice, charlie, private_repo):
    client = as_user(alice)
    listed = client.get(f"{SECRET}/collaborators/").json()
    assert [(c["username"], c["role"]) for c in listed["results"]] == [("bob", "write")]
    added = client.post(
        f"{SECRET}/collaborators/", {"username": "charlie", "role": "read"}, format="json"
    )
    assert added.status_code == 201 and added.json()["role"] == "read"
    url = f"{SECRET}/collaborators/charlie/"
    assert client.get(url).json()["role"] == "read"
    assert client.patch(url, {}, format="json").json()["role"] == "read"
    assert client.patch(url, {"role": "admin"}, format="json").json()["role"] == "admin"
    assert client.delete(url).status_code == 204
    assert not Collaborator.objects.filter(user=charlie).exists()
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "payload",
    [
        {"username": "nobody", "role": "read"},
        {"username": "alice", "role": "read"},
        {"username": "charlie", "role": "boss"},
        {"username": "charlie"},
    ],
)
def test_collaborator_add_validation(as_user, alice, charlie, private_repo, payload):
    response = as_user(alice).post(f"{SECRET}/collaborators/", payload, format="json")
    assert response.status_code == 400


# caller → status of list/add/patch/delete collaborators on alice/secret
MATRIX = {
    "owner": 200,
    "admin": 200,
    "write": 403,
    "read": 403,
    "outsider": 404,
    "anonymous": 404,
    "narrow": 403,
}


@pytest.mark.parametrize("caller", MATRIX)
def test_collaborator_permission_matrix(client_for, caller, dave):
    client = client_for(caller)
    expected = MATRIX[caller]
    assert client.get(f"{SECRET}/collaborators/").status_code == expected
    added = client.post(
        f"{SECRET}/collaborators/", {"username": "dave", "role": "read"}, format="json"
    )
    assert added.status_code == (201 if expected == 200 else expected)
    url = f"{SECRET}/collaborators/bob/"
    assert client.patch(url, {"role": "read"}, format="json").status_code == expected
    assert client.delete(url).status_code == (204 if expected == 200 else expected)


def test_stars_and_comments_count_on_the_repository(api, as_user, charlie, public_repo):
    as_user(charlie).post(f"{APP}/star/")
    as_user(charlie).post(f"{APP}/comments/", {"body": "hi"}, format="json")
    body = api.get(f"{APP}/").json()
    assert body["star_count"] == 1 and body["comment_count"] == 1
    assert Star.objects.count() == 1
