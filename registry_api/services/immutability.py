"""Immutable tags: the one place that decides whether a tag may move or go.

A rule (registry_api.models.ImmutabilityRule) covers one repository or every repository of a
namespace. A tag matching one may be created, and re-pushed at the digest it already has, but
never moved to another digest nor deleted, by any surface: services.tags calls
`tag_change_check` when a push (or a restore) would move a tag and when a tag is deleted, and
services.manifests for every tag a manifest delete would remove. Retention policies skip
protected tags instead of failing: they ask `tag_is_immutable` first.

Administrators lift a rule by deleting it (repository admins for a repository's rules, namespace
owners for a namespace's; superusers everywhere): hub.permissions decides, the callers ask it.
"""

from __future__ import annotations

import fnmatch
import re
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from hub.audit import audit_record
from registry_api.models import ImmutabilityRule
from registry_api.service_errors import TagImmutable

REGEX_PREFIX = "re:"
MAX_PATTERN_LENGTH = 200
# Tag names are at most 128 characters; with few unbounded repeats and none nested, a search
# stays polynomial and small (no catastrophic backtracking) without a timeout.
MAX_UNBOUNDED_REPEATS = 3
# A glob holds the characters of a tag name plus the glob's own (* ? [ ] !).
_GLOB_RE = re.compile(r"[A-Za-z0-9_.\-*?\[\]!]+")

try:  # the parser `re` itself uses; private, so the checks below degrade to compiling only
    from re import _constants as _sre
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover
    _sre = _sre_parse = None


def _regex_risk(parsed, inside_repeat: bool = False) -> tuple[str | None, int]:
    """Why a parsed regex could backtrack badly (or None), and its count of unbounded repeats."""
    unbounded = 0
    for op, av in parsed:
        children: list = []
        repeat = op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, getattr(_sre, "POSSESSIVE_REPEAT", None))
        if repeat:
            low, high, items = av
            if inside_repeat:
                return _("nested repetition such as (a+)+ is not allowed"), unbounded
            unbounded += high == _sre.MAXREPEAT
            children = [items]
        elif op in (_sre.GROUPREF, _sre.GROUPREF_EXISTS):
            return _("back-references are not allowed"), unbounded
        elif op == _sre.SUBPATTERN:
            children = [av[-1]]
        elif op == _sre.BRANCH:
            if inside_repeat:
                return _("alternation inside a repetition is not allowed"), unbounded
            children = list(av[1])
        elif op in (_sre.ASSERT, _sre.ASSERT_NOT):
            children = [av[1]]
        elif op == getattr(_sre, "ATOMIC_GROUP", None):
            children = [av]
        for child in children:
            reason, count = _regex_risk(child, inside_repeat or repeat)
            unbounded += count
            if reason:
                return reason, unbounded
    return None, unbounded


def pattern_validate(pattern: str) -> str:
    """Return the pattern stripped; raise ValidationError({"pattern": ...}) when it is unusable."""
    pattern = (pattern or "").strip()

    def refuse(message: str):
        raise ValidationError({"pattern": [message]})

    if not pattern:
        refuse(_("Enter a tag pattern, e.g. v* or re:^v\\d+$."))
    if len(pattern) > MAX_PATTERN_LENGTH:
        refuse(_("A pattern has at most %(n)d characters.") % {"n": MAX_PATTERN_LENGTH})
    if not pattern.startswith(REGEX_PREFIX):
        if not _GLOB_RE.fullmatch(pattern):
            refuse(
                _(
                    "A glob may hold letters, digits, _ . - and the wildcards * ? [ ] !; "
                    "write a regular expression as re:<regex>."
                )
            )
        return pattern
    expression = pattern[len(REGEX_PREFIX) :]
    if not expression:
        refuse(_("Write a regular expression after re:."))
    try:
        compiled = re.compile(expression)
    except (re.error, OverflowError, RecursionError) as exc:
        refuse(_("Not a valid regular expression: %(error)s.") % {"error": exc})
    if _sre_parse is not None:
        reason, unbounded = _regex_risk(_sre_parse.parse(compiled.pattern))
        if reason is None and unbounded > MAX_UNBOUNDED_REPEATS:
            reason = _("use at most %(n)d unbounded repetitions (* + {n,})") % {
                "n": MAX_UNBOUNDED_REPEATS
            }
        if reason:
            refuse(_("This regular expression could be slow: %(reason)s.") % {"reason": reason})
    return pattern


@lru_cache(maxsize=512)
def _matcher(pattern: str):
    if pattern.startswith(REGEX_PREFIX):
        return re.compile(pattern[len(REGEX_PREFIX) :]).search
    # Tags are case-sensitive: fnmatchcase, never the platform's case folding.
    return re.compile(fnmatch.translate(pattern)).match


def pattern_matches(pattern: str, tag_name: str) -> bool:
    try:
        return bool(_matcher(pattern)(tag_name))
    except re.error:  # a rule stored before validation tightened: protect rather than crash
        return True


def rules_for(repository) -> QuerySet[ImmutabilityRule]:
    """The rules that cover `repository`: its own and its namespace's, oldest first."""
    return ImmutabilityRule.objects.filter(
        Q(repository=repository) | Q(namespace_id=repository.namespace_id)
    ).select_related("repository__namespace", "namespace")


def tag_is_immutable(repository, name: str) -> ImmutabilityRule | None:
    """The first rule protecting tag `name` of `repository`, or None."""
    for rule in rules_for(repository):
        if pattern_matches(rule.pattern, name):
            return rule
    return None


def protected_tags(repository, names) -> dict[str, ImmutabilityRule]:
    """Of the tag names given, those a rule protects, with the rule (one query for all)."""
    rules = list(rules_for(repository))
    protected = {}
    for name in names:
        for rule in rules:
            if pattern_matches(rule.pattern, name):
                protected[name] = rule
                break
    return protected


def tag_change_check(repository, tag_name: str, *, action: str = "push") -> None:
    """Raise TagImmutable when a rule protects the tag; `action` is "push" (a move) or "delete"."""
    rule = tag_is_immutable(repository, tag_name)
    if rule is None:
        return
    if action == "delete":
        advice = "it cannot be deleted while the rule is in place"
    else:
        advice = "push a new tag instead"
    raise TagImmutable(
        {"tag": tag_name, "rule": rule.pattern, "scope": rule.scope_name, "rule_id": rule.pk},
        message=f'tag {tag_name} is immutable (rule "{rule.pattern}" on {rule.scope_name}): '
        f"{advice}",
    )


def _rule_target(rule: ImmutabilityRule) -> str:
    return rule.scope_name


@transaction.atomic
def rule_create(
    *, pattern: str, actor, repository=None, namespace=None, request=None
) -> ImmutabilityRule:
    """Add a rule to one repository or one namespace (exactly one); the caller checked that
    `actor` may. A pattern the scope already has is a field error, not a second rule."""
    if (repository is None) == (namespace is None):
        raise ValueError("a rule covers one repository or one namespace")
    pattern = pattern_validate(pattern)
    user = actor if getattr(actor, "is_authenticated", False) else None
    try:
        with transaction.atomic():
            rule = ImmutabilityRule.objects.create(
                repository=repository, namespace=namespace, pattern=pattern, created_by=user
            )
    except IntegrityError:
        raise ValidationError({"pattern": [_("This rule already exists.")]}) from None
    audit_record(
        action="immutability.create",
        actor=actor,
        target=_rule_target(rule),
        data={"pattern": rule.pattern, "rule_id": rule.pk},
        request=request,
    )
    return rule


@transaction.atomic
def rule_delete(*, rule: ImmutabilityRule, actor, request=None) -> None:
    """Lift a rule: the tags it protected may move and be deleted again."""
    target, data = _rule_target(rule), {"pattern": rule.pattern, "rule_id": rule.pk}
    rule.delete()
    audit_record(
        action="immutability.delete", actor=actor, target=target, data=data, request=request
    )
