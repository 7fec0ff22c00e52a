"""Stars and comments through the web UI, with and without htmx."""

from __future__ import annotations

import pytest

from hub.models import Comment, Star
from tests import factories
from tests.conftest import PASSWORD

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def as_bob(client, bob):
    client.login(username="bob", password=PASSWORD)
    return client


def test_star_and_unstar_with_htmx_returns_the_button(as_bob, public_repo, bob):
    response = as_bob.post("/r/alice/app/-/star/", **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="star-button"' in html and "Starred" in html and "<html" not in html
    public_repo.refresh_from_db()
    assert public_repo.star_count == 1
    assert Star.objects.filter(repository=public_repo, user=bob).exists()
    response = as_bob.post("/r/alice/app/-/star/", **HTMX)
    public_repo.refresh_from_db()
    assert public_repo.star_count == 0
    assert "☆" in response.content.decode()


def test_star_without_htmx_redirects_with_a_message(as_bob, public_repo):
    response = as_bob.post("/r/alice/app/-/star/", follow=True)
    assert response.redirect_chain[-1][0] == "/r/alice/app/"
    assert "Starred." in response.content.decode()


def test_anonymous_cannot_star(client, public_repo):
    response = client.post("/r/alice/app/-/star/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get("/r/alice/app/-/star/").status_code in (302, 405)


def test_outsider_cannot_star_private_repository(client, private_repo, charlie):
    client.login(username="charlie", password=PASSWORD)
    assert client.post("/r/alice/secret/-/star/").status_code == 404
    assert not Star.objects.exists()


def test_collaborator_can_star_private_repository(as_bob, private_repo):
    assert as_bob.post("/r/alice/secret/-/star/").status_code == 302


def test_star_requires_csrf(public_repo, bob):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.login(username="bob", password=PASSWORD)
    assert client.post("/r/alice/app/-/star/").status_code == 403


def test_comment_with_htmx_returns_fresh_form_and_the_new_comment(as_bob, public_repo):
    response = as_bob.post("/r/alice/app/-/comments/", {"body": "<b>hi</b> **there**"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="comment-form"' in html
    assert 'hx-swap-oob="beforeend:#comments-list"' in html
    assert "&lt;b&gt;hi&lt;/b&gt;" in html and "<b>hi</b>" not in html
    assert "<strong>there</strong>" in html
    assert Comment.objects.get().author.username == "bob"


def test_comment_html_is_shown_as_text_on_the_page(client, public_repo, bob):
    factories.CommentFactory(
        repository=public_repo, author=bob, body="<script>alert(1)</script><img src=x onerror=1>"
    )
    html = client.get("/r/alice/app/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html


def test_empty_comment_shows_field_error(as_bob, public_repo):
    response = as_bob.post("/r/alice/app/-/comments/", {"body": "  "}, **HTMX)
    assert "errorlist" in response.content.decode()
    assert not Comment.objects.exists()


def test_comment_without_htmx_redirects_with_message(as_bob, public_repo):
    response = as_bob.post("/r/alice/app/-/comments/", {"body": "hello"}, follow=True)
    assert "Comment posted." in response.content.decode()
    assert "hello" in response.content.decode()


def test_comments_are_rate_limited_per_user(as_bob, public_repo, settings):
    settings.COMMENTS_PER_MINUTE = 2
    for body in ("one", "two", "three"):
        response = as_bob.post("/r/alice/app/-/comments/", {"body": body}, **HTMX)
    assert "too fast" in response.content.decode()
    assert Comment.objects.count() == 2


def test_comment_page_with_thousands_of_comments_is_bounded(
    client, public_repo, bob, django_assert_max_num_queries
):
    # A flood of 2,000 long comments: the page shows one page of them, not all of them.
    body = "**flood** " + "x" * 4_890
    Comment.objects.bulk_create(
        Comment(repository=public_repo, author=bob, body=f"{n} {body}") for n in range(2_000)
    )
    with django_assert_max_num_queries(20):
        response = client.get("/r/alice/app/")
    assert response.status_code == 200
    html = response.content.decode()
    assert len(response.content) < 200_000, len(response.content)
    assert html.count('class="comment"') == 20
    assert ">2000<" in html  # the count is of all comments
    assert "1999 " in html and "<strong>flood</strong>" in html  # the newest page by default
    older = client.get("/r/alice/app/", {"comments": "1"}).content.decode()
    assert "<p>0 <strong>flood</strong>" in older and "1999 " not in older


def test_comments_turned_off_refuse_new_comments(as_bob, public_repo):
    public_repo.comments_enabled = False
    public_repo.save()
    response = as_bob.post("/r/alice/app/-/comments/", {"body": "hi"}, **HTMX)
    assert "turned off" in response.content.decode()
    assert not Comment.objects.exists()
    page = as_bob.get("/r/alice/app/").content.decode()
    assert 'id="comment-form"' not in page


def test_anonymous_sees_sign_in_prompt_instead_of_comment_form(client, public_repo):
    html = client.get("/r/alice/app/").content.decode()
    assert "Sign in to comment." in html
    assert 'id="comment-form"' not in html
    assert client.post("/r/alice/app/-/comments/", {"body": "x"}).status_code == 302
    assert not Comment.objects.exists()


def test_outsider_cannot_comment_on_private_repository(client, private_repo, charlie):
    client.login(username="charlie", password=PASSWORD)
    assert client.post("/r/alice/secret/-/comments/", {"body": "x"}).status_code == 404


def test_author_edits_own_comment(as_bob, public_repo, bob):
    comment = factories.CommentFactory(repository=public_repo, author=bob, body="old")
    url = f"/r/alice/app/-/comments/{comment.pk}/edit/"
    form = as_bob.get(url, **HTMX)
    assert "old" in form.content.decode() and "<html" not in form.content.decode()
    assert as_bob.get(url).status_code == 200
    response = as_bob.post(url, {"body": "new text"}, **HTMX)
    assert "new text" in response.content.decode() and "edited" in response.content.decode()
    comment.refresh_from_db()
    assert comment.body == "new text" and comment.edited_at is not None


def test_editing_with_empty_body_shows_error(as_bob, public_repo, bob):
    comment = factories.CommentFactory(repository=public_repo, author=bob, body="old")
    response = as_bob.post(f"/r/alice/app/-/comments/{comment.pk}/edit/", {"body": ""})
    assert "errorlist" in response.content.decode()
    comment.refresh_from_db()
    assert comment.body == "old"


def test_others_cannot_edit_or_delete_a_comment(client, public_repo, bob, charlie):
    comment = factories.CommentFactory(repository=public_repo, author=bob)
    client.login(username="charlie", password=PASSWORD)
    edit = client.post(f"/r/alice/app/-/comments/{comment.pk}/edit/", {"body": "x"})
    assert edit.status_code == 403
    assert client.post(f"/r/alice/app/-/comments/{comment.pk}/delete/").status_code == 403
    assert Comment.objects.filter(pk=comment.pk).exists()


def test_author_deletes_own_comment_with_htmx(as_bob, public_repo, bob):
    comment = factories.CommentFactory(repository=public_repo, author=bob)
    response = as_bob.post(f"/r/alice/app/-/comments/{comment.pk}/delete/", **HTMX)
    assert response.status_code == 200 and response.content == b""
    assert not Comment.objects.exists()


def test_repository_admin_deletes_any_comment(client, public_repo, alice, bob):
    comment = factories.CommentFactory(repository=public_repo, author=bob)
    client.login(username="alice", password=PASSWORD)
    assert "Delete" in client.get("/r/alice/app/").content.decode()
    response = client.post(f"/r/alice/app/-/comments/{comment.pk}/delete/", follow=True)
    assert "Comment deleted." in response.content.decode()
    assert not Comment.objects.exists()


def test_comment_of_another_repository_is_404(as_bob, public_repo, bob, alice):
    other = factories.RepositoryFactory(namespace=alice.namespace, name="other")
    comment = factories.CommentFactory(repository=other, author=bob)
    assert as_bob.post(f"/r/alice/app/-/comments/{comment.pk}/delete/").status_code == 404
