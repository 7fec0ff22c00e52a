"""Database constraints hold whatever code path writes."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from hub.models import Collaborator, Namespace, Repository, Star
from tests import factories


def test_every_user_gets_a_namespace_of_their_username(alice):
    assert alice.namespace.name == "alice"
    assert alice.namespace.kind == Namespace.Kind.USER


def test_repository_names_are_unique_within_a_namespace(public_repo):
    with pytest.raises(IntegrityError), transaction.atomic():
        Repository.objects.create(namespace=public_repo.namespace, name="app")


def test_same_repository_name_in_two_namespaces_is_fine(public_repo, acme):
    other = Repository.objects.create(namespace=Namespace.objects.get(name="acme"), name="app")
    assert other.full_name == "acme/app"
    assert public_repo.full_name == "alice/app"


def test_user_and_organization_cannot_share_a_name(alice):
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.OrganizationFactory(name="alice")


@pytest.mark.parametrize("name", ["App", "-app", "app-", "a..b", "a/", "spaces here", "ünï"])
def test_invalid_repository_names_are_rejected(alice, name):
    repository = Repository(namespace=alice.namespace, name=name)
    with pytest.raises(ValidationError):
        repository.full_clean()


@pytest.mark.parametrize("name", ["app", "my-app", "my_app", "a.b", "library/alpine", "a__b"])
def test_oci_repository_names_are_accepted(alice, name):
    repository = Repository(namespace=alice.namespace, name=name)
    repository.full_clean()
    repository.save()
    assert Repository.objects.get(namespace=alice.namespace, name=name).full_name == f"alice/{name}"


@pytest.mark.parametrize("username", ["Alice", "al ice", "al@ice", "-x"])
def test_usernames_follow_the_namespace_grammar(db, username):
    user = factories.UserFactory.build(username=username)
    with pytest.raises(ValidationError):
        user.full_clean()


def test_description_is_limited_to_100_characters(alice):
    repository = Repository(namespace=alice.namespace, name="long", description="x" * 101)
    with pytest.raises(ValidationError):
        repository.full_clean()


def test_a_user_stars_a_repository_once(public_repo, bob):
    Star.objects.create(repository=public_repo, user=bob)
    with pytest.raises(IntegrityError), transaction.atomic():
        Star.objects.create(repository=public_repo, user=bob)


def test_collaborator_role_is_constrained_in_the_database(public_repo, bob):
    with pytest.raises(IntegrityError), transaction.atomic():
        Collaborator.objects.create(repository=public_repo, user=bob, role="god")


def test_namespace_must_belong_to_exactly_one_owner(alice, acme):
    with pytest.raises(IntegrityError), transaction.atomic():
        Namespace.objects.create(name="orphan", kind=Namespace.Kind.USER)


def test_renaming_a_user_renames_their_namespace(alice):
    alice.username = "alicia"
    alice.save()
    assert Namespace.objects.get(user=alice).name == "alicia"
