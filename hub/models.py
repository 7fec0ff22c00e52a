"""The index: accounts, organizations, namespaces, repositories and their social side."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxLengthValidator, URLValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hub.names import (
    OFFICIAL_NAMESPACE,
    name_display,
    validate_namespace_name,
    validate_repository_name,
)


def avatar_storage():
    from django.core.files.storage import storages

    return storages["avatars"]


class User(AbstractUser):
    """A person. Its username is also its namespace (see Namespace)."""

    username = models.CharField(
        _("username"),
        # 64 for people; robots are `<namespace>+<name>` (hub.models.Robot), up to 129.
        max_length=130,
        unique=True,
        validators=[validate_namespace_name],
        help_text=_(
            "Lowercase letters and digits, separated by '.', '_' or '-'. "
            "It is also your namespace: <username>/<repository>."
        ),
        error_messages={"unique": _("A user with that username already exists.")},
    )
    bio = models.CharField(max_length=200, blank=True)
    full_name = models.CharField(_("full name"), max_length=100, blank=True)
    links = models.JSONField(default=list, blank=True)  # http(s) URLs shown on the profile
    # An uploaded PNG/JPEG/GIF/WebP (hub.services.profiles checks it); empty: a generated one.
    avatar = models.FileField(storage=avatar_storage, blank=True)

    class Meta(AbstractUser.Meta):
        constraints = [
            # One account per address, whatever its case: a password reset mails one account.
            models.UniqueConstraint(
                Lower("email"),
                condition=~Q(email=""),
                name="user_email_unique_ci",
                violation_error_message=_("A user with that e-mail address already exists."),
            ),
        ]

    def __str__(self) -> str:
        return self.username


class Organization(models.Model):
    name = models.CharField(max_length=64, unique=True, validators=[validate_namespace_name])
    display_name = models.CharField(max_length=100, blank=True)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="organizations"
    )
    # Shown as a link on the publisher profile: http(s) only, so no `javascript:` href.
    website = models.URLField(
        _("website"), blank=True, validators=[URLValidator(schemes=["http", "https"])]
    )
    # Badges an administrator grants (admin site, staff API, `manage.py publisher_badges`);
    # owners never set them: hub.services.publishers keeps them apart from profile edits.
    verified_publisher = models.BooleanField(
        _("verified publisher"),
        default=False,
        help_text=_("Granted by administrators to publishers whose identity they checked."),
    )
    sponsored = models.BooleanField(
        _("sponsored"),
        default=False,
        help_text=_("Granted by administrators to projects this hub sponsors."),
    )
    pull_rate_limit_exempt = models.BooleanField(
        _("exempt from pull rate limits"),
        default=False,
        help_text=_("Granted by administrators: members and robots of it pull without limit."),
    )

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        MEMBER = "member", _("Member")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique"),
            models.CheckConstraint(
                condition=Q(role__in=["owner", "member"]), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"


class Namespace(models.Model):
    """One name space for users and organizations: `alice/app` and `acme/app` never collide."""

    class Kind(models.TextChoices):
        USER = "user", _("User")
        ORGANIZATION = "org", _("Organization")

    name = models.CharField(max_length=64, unique=True, validators=[validate_namespace_name])
    kind = models.CharField(max_length=4, choices=Kind.choices)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE
    )
    organization = models.OneToOneField(
        Organization, null=True, blank=True, on_delete=models.CASCADE
    )
    # Bumped whenever a signing key that covers this namespace changes (its own or a
    # registry-wide one): cached signature verdicts carry the version they were made with.
    signing_keys_version = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="user", user__isnull=False, organization__isnull=True)
                    | Q(kind="org", user__isnull=True, organization__isnull=False)
                ),
                name="namespace_has_exactly_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("hub:profile", args=[self.name])

    @property
    def is_organization(self) -> bool:
        return self.kind == self.Kind.ORGANIZATION


class NamespaceQuota(models.Model):
    """A namespace's storage limit, set by administrators; without a row the namespace has
    DEFAULT_NAMESPACE_QUOTA_BYTES. The row also remembers which warning was last sent, so the
    80 % and 100 % webhook events go out once per crossing."""

    namespace = models.OneToOneField(Namespace, on_delete=models.CASCADE, related_name="quota")
    # None: the default setting; 0: unlimited.
    limit_bytes = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text=_("Bytes; empty for the default (DEFAULT_NAMESPACE_QUOTA_BYTES), 0 unlimited."),
    )
    # 0, 80 or 100: the highest threshold crossed and announced; lowered when usage falls back.
    warned_percent = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"quota of {self.namespace}"


class Repository(models.Model):
    namespace = models.ForeignKey(Namespace, on_delete=models.CASCADE, related_name="repositories")
    name = models.CharField(max_length=255, validators=[validate_repository_name])
    description = models.CharField(max_length=100, blank=True)
    full_description = models.TextField(max_length=25000, blank=True)
    is_private = models.BooleanField(default=False)
    comments_enabled = models.BooleanField(default=True)
    # Links and licence: set by the owner, or filled from the pushed image's OCI annotations
    # (hub.services.image_metadata). http(s) only, so no `javascript:` href.
    source_url = models.URLField(
        _("source code"), max_length=500, blank=True, validators=[URLValidator(["http", "https"])]
    )
    documentation_url = models.URLField(
        _("documentation"), max_length=500, blank=True, validators=[URLValidator(["http", "https"])]
    )
    homepage_url = models.URLField(
        _("home page"), max_length=500, blank=True, validators=[URLValidator(["http", "https"])]
    )
    license = models.CharField(_("licence"), max_length=200, blank=True)
    # What the last pushed image calls itself (org.opencontainers.image.title and .version);
    # only images set them.
    image_title = models.CharField(max_length=200, blank=True)
    image_version = models.CharField(max_length=100, blank=True)
    # Names of the fields above (and `description`) whose value came from an image: a later
    # push may change those, never one the owner set (hub.services.image_metadata).
    metadata_from_image = models.JSONField(default=list, blank=True)
    # When the push whose image filled them happened: an older push read late changes nothing.
    metadata_pushed_at = models.DateTimeField(null=True, blank=True)
    # Pulls of images without a signature verified by a signing key are refused (DENIED).
    require_signature = models.BooleanField(default=False)
    # Set for repositories filled by the pull-through cache; shown as a badge, never pushed to.
    mirror_of = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Denormalised counters, updated with F() by services; lists sort on them.
    pull_count = models.PositiveBigIntegerField(default=0)
    star_count = models.PositiveIntegerField(default=0)
    # Storage counters (registry_api.selectors.usage has the definitions), recomputed by
    # registry_api.services.usage after each write that changes them; `usage_recount` verifies.
    logical_bytes = models.PositiveBigIntegerField(default=0)
    stored_bytes = models.PositiveBigIntegerField(default=0)
    usage_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "repositories"
        constraints = [
            models.UniqueConstraint(fields=["namespace", "name"], name="repository_unique_name"),
        ]
        indexes = [
            # Explore: public repositories ordered by popularity or recency.
            models.Index(fields=["is_private", "-star_count"], name="repo_popular_idx"),
            models.Index(fields=["is_private", "-updated_at"], name="repo_recent_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name

    def get_absolute_url(self) -> str:
        return reverse("hub:repository-detail", args=[self.namespace.name, self.name])

    @property
    def full_name(self) -> str:
        return f"{self.namespace.name}/{self.name}"

    @property
    def is_official(self) -> bool:
        """Official images are the `library` namespace's repositories (Docker Hub's rule)."""
        return self.namespace.name == OFFICIAL_NAMESPACE

    @property
    def publisher(self) -> Organization | None:
        """The owning organization; None for a user's repository (no extra query then)."""
        return self.namespace.organization if self.namespace.organization_id else None

    @property
    def is_verified_publisher(self) -> bool:
        return bool(self.publisher and self.publisher.verified_publisher)

    @property
    def is_sponsored(self) -> bool:
        return bool(self.publisher and self.publisher.sponsored)

    @property
    def display_name(self) -> str:
        """The name clients write: `centos` for `library/centos` (hub.names.name_display)."""
        return name_display(self.namespace.name, self.name)


class Collaborator(models.Model):
    class Role(models.TextChoices):
        READ = "read", _("Read")
        WRITE = "write", _("Write")
        ADMIN = "admin", _("Admin")

    repository = models.ForeignKey(
        Repository, on_delete=models.CASCADE, related_name="collaborators"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    role = models.CharField(max_length=5, choices=Role.choices, default=Role.READ)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repository", "user"], name="collaborator_unique"),
            models.CheckConstraint(
                condition=Q(role__in=["read", "write", "admin"]), name="collaborator_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.repository} ({self.role})"


class Team(models.Model):
    """A named group of an organization's members, granted roles on its repositories."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=64, validators=[validate_namespace_name])
    description = models.CharField(max_length=200, blank=True)
    # Only members of the organization (hub.services.teams enforces it).
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="team_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.organization}/{self.name}"


class TeamRepository(models.Model):
    """A team's role on one repository of its organization."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="grants")
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="team_grants")
    role = models.CharField(max_length=5, choices=Collaborator.Role.choices, default="read")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "team repositories"
        constraints = [
            models.UniqueConstraint(fields=["team", "repository"], name="team_repository_unique"),
            models.CheckConstraint(
                condition=Q(role__in=["read", "write", "admin"]),
                name="team_repository_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team} on {self.repository} ({self.role})"


class Star(models.Model):
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="stars")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stars"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repository", "user"], name="star_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ★ {self.repository}"


# A TextField's max_length only sizes the form widget: the validator enforces it everywhere.
COMMENT_MAX_LENGTH = 5000


class Comment(models.Model):
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    body = models.TextField(
        max_length=COMMENT_MAX_LENGTH, validators=[MaxLengthValidator(COMMENT_MAX_LENGTH)]
    )
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"comment by {self.author} on {self.repository}"


class AccessToken(models.Model):
    """A personal access token: usable as a password for docker login and the REST API."""

    class Scope(models.TextChoices):
        READ = "repo:read", _("Read")
        WRITE = "repo:write", _("Read & write")
        DELETE = "repo:delete", _("Read, write & delete")
        ADMIN = "repo:admin", _("Admin")

    PREFIX = "dky_"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens"
    )
    label = models.CharField(max_length=100)
    # The first characters of the secret, so a user can recognise a token in a list.
    token_prefix = models.CharField(max_length=12)
    # SHA-256 of the secret: the secret is high-entropy, so a slow hash buys nothing.
    token_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.label} ({self.user})"

    @property
    def is_active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()


class Invitation(models.Model):
    """A link that lets someone create an account (and join an organization, when it names one).

    The link carries `<uuid>.<secret>`; only the secret's SHA-256 is stored, so a database dump
    holds no usable link. Single use: hub.services.invitations marks it used atomically."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Null: a site-wide invitation from an administrator (an account, no organization).
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="invitations"
    )
    # Blank for a one-time link handed over by other means than our e-mail.
    email = models.EmailField(blank=True)
    role = models.CharField(
        max_length=10, choices=Membership.Role.choices, default=Membership.Role.MEMBER
    )
    token_hash = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=["owner", "member"]), name="invitation_role_valid"
            ),
        ]

    def __str__(self) -> str:
        target = self.organization.name if self.organization_id else _("the site")
        return f"{self.email or _('one-time link')} → {target} ({self.role})"

    STATUSES = ("pending", "used", "revoked", "expired")

    @property
    def status(self) -> str:
        """One of STATUSES."""
        if self.used_at is not None:
            return "used"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"


class EmailChange(models.Model):
    """A new e-mail address a user asked for, not yet confirmed: User.email changes only when
    the link mailed to this address is opened (so a password reset never goes to it before)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_change"
    )
    email = models.EmailField()
    requested_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user} → {self.email}"


class AuditEntry(models.Model):
    """One security-relevant action, recorded once by the service that performed it
    (hub.audit.audit_record). Never holds a secret."""

    class ActorKind(models.TextChoices):
        USER = "user"
        ROBOT = "robot"
        ANONYMOUS = "anonymous"
        SYSTEM = "system"

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The actor's name as it was (kept when the account goes), "" for the system (GC, schedules).
    actor_name = models.CharField(max_length=150, blank=True, db_index=True)
    actor_kind = models.CharField(
        max_length=16, choices=ActorKind.choices, default=ActorKind.SYSTEM, db_index=True
    )
    # The organization or user the target belongs to: their owners see the entry.
    namespace = models.CharField(max_length=255, blank=True, db_index=True)
    action = models.CharField(max_length=64, db_index=True)  # e.g. "gc.run", "immutability.create"
    target = models.CharField(max_length=300, blank=True, db_index=True)  # e.g. "alice/app:v1"
    result = models.CharField(max_length=16, default="ok")  # ok | denied | failed
    data = models.JSONField(default=dict, blank=True)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        when = f"{self.created_at:%Y-%m-%d %H:%M:%S}"
        return f"{when} {self.actor_name or '-'} {self.action} {self.target}"


class Robot(models.Model):
    """A robot account: a User named `<namespace>+<name>` whose password is its secret.

    It signs in only with Basic credentials (docker login, token service, REST API), never with
    a session; it holds exactly its RobotPermission grants and nothing from membership.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="robot"
    )
    namespace = models.ForeignKey(Namespace, on_delete=models.CASCADE, related_name="robots")
    name = models.CharField(max_length=64, validators=[validate_namespace_name])
    description = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    pull_rate_limit_exempt = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["namespace", "name"], name="robot_unique_name"),
        ]

    def __str__(self) -> str:
        return self.user.username

    @property
    def full_name(self) -> str:
        return f"{self.namespace.name}+{self.name}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return self.user.is_active and not self.is_expired


class RobotPermission(models.Model):
    """A robot's grant on one repository of its namespace, or on all of them (repository null)."""

    class Level(models.TextChoices):
        PULL = "pull", _("Pull")
        PUSH = "push", _("Push and pull")
        DELETE = "delete", _("Delete, push and pull")

    robot = models.ForeignKey(Robot, on_delete=models.CASCADE, related_name="permissions")
    repository = models.ForeignKey(
        "Repository", null=True, blank=True, on_delete=models.CASCADE, related_name="robot_grants"
    )
    level = models.CharField(max_length=8, choices=Level.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["robot", "repository"], name="robot_permission_unique_repository"
            ),
            models.UniqueConstraint(
                fields=["robot"],
                condition=Q(repository__isnull=True),
                name="robot_permission_unique_all",
            ),
            models.CheckConstraint(
                condition=Q(level__in=["pull", "push", "delete"]),
                name="robot_permission_level_valid",
            ),
        ]

    def __str__(self) -> str:
        target = self.repository.name if self.repository_id else "*"
        return f"{self.robot} {self.level} {target}"


class DirectoryGrant(models.Model):
    """A membership (team None) or team membership that a directory group map granted.

    Only what a grant row records is removed when the user leaves the mapped group: memberships
    added by hand are never touched (hub.directory_groups).
    """

    class Source(models.TextChoices):
        LDAP = "ldap", "LDAP"
        OIDC = "oidc", "OpenID Connect"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="directory_grants"
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, null=True, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization", "team"],
                name="directory_grant_unique_team",
                condition=Q(team__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["user", "organization"],
                name="directory_grant_unique_membership",
                condition=Q(team__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        where = f"{self.organization}/{self.team.name}" if self.team_id else str(self.organization)
        return f"{self.user} in {where} ({self.source})"


class OIDCIdentity(models.Model):
    """The account an OpenID Connect subject (issuer + sub) signs in as.

    Looked up by (issuer, subject), never by name: a renamed user at the IdP keeps the account.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oidc_identity"
    )
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "OIDC identity"
        verbose_name_plural = "OIDC identities"
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="oidc_identity_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} = {self.subject}@{self.issuer}"


class SigningKey(models.Model):
    """A key that verifies image signatures: a namespace's, or registry-wide (namespace NULL)."""

    class Kind(models.TextChoices):
        COSIGN = "cosign", _("Cosign public key")
        NOTATION = "notation", _("Notation trust-store certificate")

    namespace = models.ForeignKey(
        Namespace, null=True, blank=True, on_delete=models.CASCADE, related_name="signing_keys"
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    pem = models.TextField(max_length=20000)
    # sha256 of the DER public key (SubjectPublicKeyInfo): how results name the key.
    fingerprint = models.CharField(max_length=71, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["namespace", "name"], name="signing_key_unique_name_per_namespace"
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(namespace__isnull=True),
                name="signing_key_unique_registry_wide_name",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.namespace or 'registry-wide'}: {self.name}"


class RepositoryRedirect(models.Model):
    """An old name of a renamed or transferred repository: pulls, pages and API calls of
    `namespace/name` reach `repository` until the name is reused or an owner removes it
    (hub.services.repository_transfer)."""

    # The old name's namespace: the redirect goes with it when that user or organization goes.
    namespace = models.ForeignKey(Namespace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=255, validators=[validate_repository_name])
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="redirects")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One old name leads to one repository (and the lookup by name uses this index).
            models.UniqueConstraint(fields=["namespace", "name"], name="redirect_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} → {self.repository}"

    @property
    def full_name(self) -> str:
        return f"{self.namespace.name}/{self.name}"

    @property
    def display_name(self) -> str:
        return name_display(self.namespace.name, self.name)
