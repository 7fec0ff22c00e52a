from __future__ import annotations

import hashlib

import factory
from django.contrib.auth import get_user_model

from hub.models import Collaborator, Comment, Membership, Namespace, Organization, Repository, Star

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"org{n}")

    @factory.post_generation
    def namespace(obj, create, extracted, **kwargs):
        if create:
            Namespace.objects.get_or_create(
                name=obj.name, kind=Namespace.Kind.ORGANIZATION, organization=obj
            )

    @factory.post_generation
    def owners(obj, create, extracted, **kwargs):
        for user in extracted or []:
            Membership.objects.create(organization=obj, user=user, role=Membership.Role.OWNER)

    @factory.post_generation
    def members(obj, create, extracted, **kwargs):
        for user in extracted or []:
            Membership.objects.create(organization=obj, user=user, role=Membership.Role.MEMBER)


class RepositoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Repository

    namespace = factory.LazyFunction(lambda: UserFactory().namespace)
    name = factory.Sequence(lambda n: f"repo{n}")
    description = "A test repository"


class CollaboratorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Collaborator

    repository = factory.SubFactory(RepositoryFactory)
    user = factory.SubFactory(UserFactory)
    role = Collaborator.Role.READ


class StarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Star

    repository = factory.SubFactory(RepositoryFactory)
    user = factory.SubFactory(UserFactory)


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Comment

    repository = factory.SubFactory(RepositoryFactory)
    author = factory.SubFactory(UserFactory)
    body = "Nice image"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()
