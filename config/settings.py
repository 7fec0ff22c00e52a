"""Dockyard settings: one file, read from the environment.

With no environment at all this is the embedded default: SQLite and blobs under DATA_DIR,
keys generated there on first run, Celery on a filesystem broker (no Redis).
Production turns each piece on by variable; `.env.example` lists them all.
"""

from __future__ import annotations

import os
from pathlib import Path

from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from config import data_dir, keys
from config.email import email_settings
from config.env import (
    env_bool,
    env_choice,
    env_db,
    env_int,
    env_list,
    env_rate,
    env_str,
    read_env,
)
from config.hosts import WILDCARD_BINDS, allowed_hosts_default
from hub.audit_forwarding import handlers_config as audit_handlers_config

# The project's .env (or DOCKYARD_ENV_FILE) fills in what the environment does not set.
read_env()
BASE_DIR = Path(__file__).resolve().parent.parent
# Everything this service writes is private to its account (files 0600, directories 0700).
os.umask(data_dir.PRIVATE_UMASK)
DATA_DIR = (BASE_DIR / env_str("DATA_DIR", "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)
data_dir.restrict(DATA_DIR)

# Core
SECRET_KEY = env_str("SECRET_KEY", "") or keys.secret_key(DATA_DIR)
# Encrypts webhook secrets and proxy-cache passwords in the database (hub.encryption). Keep it
# apart from database backups; losing it loses those secrets. Comma-separate to rotate.
DATA_ENCRYPTION_KEY = env_str("DATA_ENCRYPTION_KEY", "") or keys.data_encryption_key(DATA_DIR)
DEBUG = env_bool("DEBUG", False)
# Where this server is reached. E-mailed links (password reset) are built from SITE_URL, never
# from a request's Host header; unset, they use what `make run` serves (http://HOST:PORT).
SITE_URL = env_str("SITE_URL", "").rstrip("/")
# What pages and e-mails call this registry (a vendor's hub goes by the vendor's name).
SITE_NAME = env_str("SITE_NAME", "Dockyard")
_HOST = env_str("HOST", "127.0.0.1").strip().removeprefix("[").removesuffix("]")
_SERVED_HOST = "127.0.0.1" if _HOST in WILDCARD_BINDS else _HOST
SITE_URL_DEFAULT = "{scheme}://{host}:{port}".format(
    scheme="https" if env_str("TLS_CERT", "") else "http",
    host=f"[{_SERVED_HOST}]" if ":" in _SERVED_HOST else _SERVED_HOST,
    port=env_int("PORT", 8000),
)
# Host names answered: the site's, the bound address and loopback, unless listed explicitly
# (a forged Host never reaches a view; "*" turns the check off).
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS",
    allowed_hosts_default(
        SITE_URL or SITE_URL_DEFAULT, bind_host=_HOST, tls_cert=env_str("TLS_CERT", "")
    ),
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Behind a TLS-terminating proxy, trust its X-Forwarded-Proto so token realms say https.
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
# Served over TLS (gunicorn's own certificate, or a TLS-terminating proxy): cookies only travel
# over HTTPS, and browsers are told to use HTTPS only (HSTS is sent on HTTPS responses only).
SERVED_OVER_TLS = bool(env_str("TLS_CERT", "")) or env_bool("BEHIND_PROXY", False)
if SERVED_OVER_TLS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
# The UI is local assets and htmx only: nothing inline, nothing from other hosts (a README's
# image from elsewhere would be a tracking pixel). Registry (/v2/) responses are JSON and blobs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

INSTALLED_APPS = [
    # First: its createsuperuser and changepassword (which name the database they write) replace
    # django.contrib.auth's; the earliest app wins a command name.
    "hub",
    "hub.admin_site.DockyardAdminConfig",  # django.contrib.admin with its own site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "django_htmx",
    "csp",
    "registry_api",
    "webhooks",
    "scanning",
]

# One stack for every request, in tests as in production. /v2/ requests resolve against the
# registry's routes only; the portal's middleware (config.registry_middleware.portal_only: the
# Django, whitenoise and htmx classes of the same names) lets them pass untouched.
MIDDLEWARE = [
    # First, so that every log line and audit entry of the request carries its id.
    "config.request_context.RequestIdMiddleware",
    # Second: times and counts everything below it, one access-log line per request.
    "config.access_log.AccessLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # A chunked body that stops short (client gone, or cut as too slow): 400, not 500.
    "config.unreadable_body.UnreadableBodyMiddleware",
    "config.registry_middleware.RegistryUrlconfMiddleware",
    "config.registry_middleware.CSPMiddleware",
    "config.registry_middleware.WhiteNoiseMiddleware",
    "config.registry_middleware.SessionMiddleware",
    "config.registry_middleware.LocaleMiddleware",
    "config.registry_middleware.CommonMiddleware",
    "config.registry_middleware.CsrfViewMiddleware",
    "config.registry_middleware.AuthenticationMiddleware",
    # Audit entries of this request know its client address, user agent and user.
    "hub.audit.AuditRequestMiddleware",
    # A 404 for a moved repository's old name: a redirect to its new name (for who may see it).
    "hub.redirects.RepositoryMovedMiddleware",
    # Without ANONYMOUS_READ, anonymous visitors of portal pages are sent to sign in.
    "config.registry_middleware.SignInRequiredMiddleware",
    "config.registry_middleware.MessageMiddleware",
    "config.registry_middleware.XFrameOptionsMiddleware",
    "config.registry_middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
# Portal URLs get their slash; CommonMiddleware leaves /v2/ paths (slash-less by spec) alone.
APPEND_SLASH = True

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hub.context_processors.site",
            ],
        },
    },
]

# Database
DATABASES = {"default": env_db("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and IMMEDIATE transactions let gunicorn workers and the Celery worker share SQLite.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DATABASES["default"]["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A server that does not answer fails a request (and /-/ready) within seconds, not minutes.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5)
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Accounts
AUTH_USER_MODEL = "hub.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "hub:explore"
LOGOUT_REDIRECT_URL = "hub:explore"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "hub.hashers.HtpasswdBCryptHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Failed password sign-ins (portal, admin, /auth/token, Basic on /v2/ and the API) are counted
# in fixed windows of LOGIN_FAILURE_WINDOW seconds: LOGIN_FAILURE_LIMIT per account and client
# address, with higher ceilings per account (from all addresses) and per address (all accounts).
# Access tokens are never locked out by failed passwords.
LOGIN_FAILURE_WINDOW = max(1, env_int("LOGIN_FAILURE_WINDOW", 60))
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_LIMIT_PER_ACCOUNT = env_int("LOGIN_FAILURE_LIMIT_PER_ACCOUNT", 50)
LOGIN_FAILURE_LIMIT_PER_ADDRESS = env_int("LOGIN_FAILURE_LIMIT_PER_ADDRESS", 100)
# A verified (user, password) pair is remembered this long (keyed hash in the cache), so clients
# sending a password as Basic on every request cost one Argon2 check per interval; 0 disables.
PASSWORD_CHECK_CACHE_SECONDS = env_int("PASSWORD_CHECK_CACHE_SECONDS", 60)
# Names no one may sign up or found an organization with, besides the built-in ones (admin,
# library, docker, official, api, v2, … and the portal's routes); comma-separated.
RESERVED_NAMES = env_list("RESERVED_NAMES", [])
# Comments one user may post per minute, web UI and REST API together (spam brake; then 429).
COMMENTS_PER_MINUTE = env_int("COMMENTS_PER_MINUTE", 5)

# Access profile: `private` is a company's own registry (every read needs a signed-in user or a
# token, only administrators create accounts, new repositories are private); `public` is a hub.
# The profile presets the three settings below; each can also be set on its own.
REGISTRY_PROFILE = env_choice("REGISTRY_PROFILE", "public", ("public", "private"))
_PRIVATE_PROFILE = REGISTRY_PROFILE == "private"
ANONYMOUS_READ = env_bool("ANONYMOUS_READ", not _PRIVATE_PROFILE)
SIGNUP = env_choice(
    "SIGNUP", "closed" if _PRIVATE_PROFILE else "open", ("open", "invite", "closed")
)
DEFAULT_VISIBILITY = env_choice(
    "DEFAULT_VISIBILITY", "private" if _PRIVATE_PROFILE else "public", ("private", "public")
)

# E-mail (password reset, invitations, address changes). EMAIL_URL names where mail goes
# (config/email.py); the older EMAIL_HOST/EMAIL_PORT/... variables still work when it is unset.
# With neither, mails are written as files under DATA_DIR/mail, so an embedded instance needs no
# mail server and its administrator can still hand a link over.
EMAIL_FILE_PATH = DATA_DIR / "mail"
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_URL = env_str("EMAIL_URL", "")
if EMAIL_URL:
    # Replaces every setting above that it names (backend, host, port, user, password, TLS).
    globals().update(email_settings(EMAIL_URL, default_file_path=EMAIL_FILE_PATH))
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "dockyard@localhost")
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3 * 24 * 3600)
# How long an invitation link and a link confirming a changed e-mail address stay valid.
INVITATION_TTL_SECONDS = env_int("INVITATION_TTL_SECONDS", 7 * 24 * 3600)
EMAIL_CONFIRM_TTL_SECONDS = env_int("EMAIL_CONFIRM_TTL_SECONDS", 3 * 24 * 3600)

# Cache: Redis in production; a file cache shared by all local processes otherwise.
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "config.file_cache.LockedFileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }

# Internationalisation
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# Static files, served by whitenoise
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# The container image collects them into the image (STATIC_ROOT there), not into DATA_DIR.
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "static")))

# /-/ready (config.health): each of its checks (blob store, broker) may take this many seconds
# before it counts as failed, so a probe gets its answer before its own timeout.
HEALTH_CHECK_TIMEOUT = env_int("HEALTH_CHECK_TIMEOUT", 3)

# Registry storage: blobs in the "registry" storage alias, upload sessions staged on disk
STORAGE_BACKEND = env_str("STORAGE_BACKEND", "filesystem")
if STORAGE_BACKEND not in ("filesystem", "s3", "swift", "azure"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "Environment variable STORAGE_BACKEND must be 'filesystem', 's3', 'swift' or 'azure'"
    )
if STORAGE_BACKEND == "s3":
    REGISTRY_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("AWS_STORAGE_BUCKET_NAME", "dockyard"),
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL", "") or None,
            "access_key": env_str("AWS_ACCESS_KEY_ID", ""),
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY", ""),
            "region_name": env_str("AWS_S3_REGION_NAME", "us-east-1"),
            "addressing_style": env_str("AWS_S3_ADDRESSING_STYLE", "path"),
            "file_overwrite": True,
            "default_acl": None,
            "querystring_expire": env_int("AWS_QUERYSTRING_EXPIRE", 600),
        },
    }
elif STORAGE_BACKEND == "swift":
    # OpenStack Swift or Rackspace Cloud Files, through django-storage-swift (its setting names).
    SWIFT_TEMP_URL_KEY = env_str("SWIFT_TEMP_URL_KEY", "")
    REGISTRY_STORAGE = {
        "BACKEND": "swift.storage.SwiftStorage",
        "OPTIONS": {
            "api_auth_url": env_str("SWIFT_AUTH_URL", ""),
            "api_username": env_str("SWIFT_USERNAME", ""),
            "api_key": env_str("SWIFT_KEY", ""),
            # 1 (tempauth, Cloud Files), 2 or 3 (Keystone; with tenant/project and domains).
            "auth_version": env_str("SWIFT_AUTH_VERSION", "") or None,
            "tenant_name": env_str("SWIFT_TENANT_NAME", "") or None,
            "user_domain_name": env_str("SWIFT_USER_DOMAIN_NAME", "") or None,
            "project_domain_name": env_str("SWIFT_PROJECT_DOMAIN_NAME", "") or None,
            "region_name": env_str("SWIFT_REGION_NAME", "") or None,
            "container_name": env_str("SWIFT_CONTAINER_NAME", "dockyard"),
            "auto_create_container": env_bool("SWIFT_AUTO_CREATE_CONTAINER", True),
            # Redirects are TempURLs signed with the account's temp-url key, when one is set.
            "use_temp_urls": bool(SWIFT_TEMP_URL_KEY),
            "temp_url_key": SWIFT_TEMP_URL_KEY or None,
            "temp_url_duration": env_int("SWIFT_TEMP_URL_DURATION", 600),
            "max_retries": env_int("SWIFT_MAX_RETRIES", 3),
            # Connect on first use, not when Django builds the storage.
            "lazy_connect": True,
        },
    }
elif STORAGE_BACKEND == "azure":
    REGISTRY_STORAGE = {
        "BACKEND": "storages.backends.azure_storage.AzureStorage",
        "OPTIONS": {
            "connection_string": env_str("AZURE_CONNECTION_STRING", ""),
            "azure_container": env_str("AZURE_CONTAINER", "dockyard"),
            "overwrite_files": True,
            # Redirects are SAS URLs signed with the connection string's account key.
            "expiration_secs": env_int("AZURE_URL_EXPIRATION_SECS", 600),
        },
    }
else:
    REGISTRY_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(DATA_DIR / "storage")},
    }
_STORAGE_NEEDS = {
    "swift": ("SWIFT_AUTH_URL", "SWIFT_USERNAME", "SWIFT_KEY"),
    "azure": ("AZURE_CONNECTION_STRING",),
}
if missing := [name for name in _STORAGE_NEEDS.get(STORAGE_BACKEND, ()) if not env_str(name, "")]:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"STORAGE_BACKEND={STORAGE_BACKEND} needs the environment variables {', '.join(missing)}"
    )
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    "registry": REGISTRY_STORAGE,
    # Uploaded avatars (served by hub.views.avatars, so any backend works).
    "avatars": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(DATA_DIR / "avatars")},
    },
}
# On the filesystem backend upload sessions stream here, and every web process (on every host)
# must see this directory. On S3 they stage in the bucket (registry_api.storage.s3_staging) and
# this is only local scratch (mirror fetches, imports).
UPLOAD_STAGING_DIR = Path(env_str("UPLOAD_STAGING_DIR", str(DATA_DIR / "uploads")))
# S3 staging: bytes per multipart part (S3 needs at least 5 MiB for every part but the last; a
# part is buffered in memory up to 8 MiB, past that in a local temporary file).
UPLOAD_S3_PART_BYTES = env_int("UPLOAD_S3_PART_BYTES", 8 * 1024**2)
if not 5 * 1024**2 <= UPLOAD_S3_PART_BYTES <= 5 * 1024**3:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("UPLOAD_S3_PART_BYTES must be between 5 MiB and 5 GiB")
# S3 staging: how long a request's lock on a session lasts unless renewed (it is renewed while
# bytes flow); a host killed mid-request blocks its session this long at most.
UPLOAD_S3_LEASE_SECONDS = env_int("UPLOAD_S3_LEASE_SECONDS", 30)
# The largest blob an upload may grow to (413 SIZE_INVALID past it); 0 for no limit.
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 10 * 1024**3)
# Upload sessions idle this long are purged (with their staged bytes) by a periodic task.
UPLOAD_PURGE_AFTER_SECONDS = env_int("UPLOAD_PURGE_AFTER_SECONDS", 24 * 3600)
data_dir.restrict(UPLOAD_STAGING_DIR)
# Django chmods stored files to FILE_UPLOAD_PERMISSIONS (0644 by default), whatever the umask.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
# On S3, Swift (with SWIFT_TEMP_URL_KEY) and Azure, answer blob GETs with a redirect to a
# presigned URL (a TempURL, a SAS URL) instead of proxying the bytes.
REGISTRY_BLOB_REDIRECT = env_bool("REGISTRY_BLOB_REDIRECT", False)
# Swift objects past this size are uploaded as Static Large Object segments of this size
# (Swift refuses single objects over 5 GiB by default).
SWIFT_SEGMENT_SIZE = env_int("SWIFT_SEGMENT_SIZE", 1024**3)
REGISTRY_MAX_MANIFEST_BYTES = 4 * 1024 * 1024
# Advertised as OCI-Chunk-Min-Length: chunked clients send at least this much per PATCH (each
# PATCH costs database round trips; staging has no minimum of its own).
REGISTRY_CHUNK_MIN_LENGTH = env_int("REGISTRY_CHUNK_MIN_LENGTH", 1024 * 1024)
# A serving process adds manifest GETs' pull counts up in memory and writes them this often (one
# short transaction instead of a write per GET); 0 writes every pull at once (registry_api.pulls).
REGISTRY_PULLS_FLUSH_SECONDS = env_int("REGISTRY_PULLS_FLUSH_SECONDS", 1)

# Token service (Docker token spec)
REGISTRY_SERVICE = env_str("REGISTRY_SERVICE", "dockyard")
TOKEN_ISSUER = env_str("TOKEN_ISSUER", "dockyard")
# Short-lived: clients fetch a new token when it runs out (docker with its refresh token).
TOKEN_EXPIRES_IN = max(60, env_int("TOKEN_EXPIRES_IN", 300))
TOKEN_SIGNING_KEY = env_str("TOKEN_SIGNING_KEY", "") or keys.token_signing_key(DATA_DIR)
# Refresh tokens (docker login keeps one as its identity token); a password change ends them.
TOKEN_REFRESH_MAX_AGE = env_int("TOKEN_REFRESH_MAX_AGE", 90 * 24 * 3600)

# Celery: Redis when REDIS_URL is set; otherwise a filesystem broker, still asynchronous.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _queue = DATA_DIR / "celery"
    for _sub in ("queue", "processed", "control"):
        (_queue / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue / "queue"),
        "data_folder_out": str(_queue / "queue"),
        "processed_folder": str(_queue / "processed"),
        # Broadcast (pidbox) tables too, or instances side by side would share ./control.
        "control_folder": str(_queue / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "webhooks-sweep": {
        "task": "webhooks.tasks.sweep_deliveries",
        "schedule": float(env_int("WEBHOOK_SWEEP_SECONDS", 30)),
    },
}
# Retention policies are looked at this often; each runs when its schedule (daily, weekly) is due.
RETENTION_INTERVAL_SECONDS = env_int("RETENTION_INTERVAL_SECONDS", 86400)
if RETENTION_INTERVAL_SECONDS > 0:
    CELERY_BEAT_SCHEDULE["retention-run"] = {
        "task": "registry_api.tasks.retention_run_all",
        "schedule": float(RETENTION_INTERVAL_SECONDS),
    }

# Lifecycle: online garbage collection, deletes, restore, quotas.
# A blob or manifest nothing references is collected only after GC_GRACE_SECONDS (an upload may be
# about to be referenced by a manifest push); GC runs every GC_INTERVAL_SECONDS (0: never).
GC_INTERVAL_SECONDS = env_int("GC_INTERVAL_SECONDS", 3600)
GC_GRACE_SECONDS = env_int("GC_GRACE_SECONDS", 24 * 3600)
if GC_INTERVAL_SECONDS > 0:  # one collection also purges abandoned upload sessions
    CELERY_BEAT_SCHEDULE["garbage-collect"] = {
        "task": "registry_api.tasks.garbage_collect",
        "schedule": float(GC_INTERVAL_SECONDS),
    }
else:  # GC only on demand: upload sessions are still purged on their own schedule
    CELERY_BEAT_SCHEDULE["uploads-purge"] = {
        "task": "registry_api.tasks.purge_stale_uploads",
        "schedule": float(min(3600, max(60, UPLOAD_PURGE_AFTER_SECONDS // 4))),
    }
# A deleted manifest stays restorable (tag history) this long; its blobs are kept as long.
TAG_RESTORE_SECONDS = max(GC_GRACE_SECONDS, env_int("TAG_RESTORE_SECONDS", GC_GRACE_SECONDS))
# Deleting a manifest also deletes its referrers (signatures, SBOMs), as OCI 1.1 recommends.
DELETE_REFERRERS_WITH_SUBJECT = env_bool("DELETE_REFERRERS_WITH_SUBJECT", True)
# Every namespace's storage quota unless an administrator sets its own (0: unlimited).
DEFAULT_NAMESPACE_QUOTA_BYTES = env_int("DEFAULT_NAMESPACE_QUOTA_BYTES", 0)

# SBOMs and vulnerability scanning (scanning/): every pushed image is scanned once, off the
# request path. The work per image is bounded: bytes read from storage (compressed, all layers),
# tar members looked at, and the size of one package database file.
SCAN_ON_PUSH = env_bool("SCAN_ON_PUSH", True)
SCAN_MAX_BYTES = env_int("SCAN_MAX_BYTES", 2 * 1024**3)
SCAN_MAX_FILES = env_int("SCAN_MAX_FILES", 500_000)
SCAN_MAX_FILE_BYTES = env_int("SCAN_MAX_FILE_BYTES", 64 * 1024**2)
# Images a push did not get scanned (broker down, worker lost) are picked up this often.
SCAN_SWEEP_SECONDS = env_int("SCAN_SWEEP_SECONDS", 600)
SCAN_SWEEP_BATCH = env_int("SCAN_SWEEP_BATCH", 20)
if SCAN_ON_PUSH and SCAN_SWEEP_SECONDS > 0:
    CELERY_BEAT_SCHEDULE["scan-sweep"] = {
        "task": "scanning.tasks.scan_sweep",
        "schedule": float(SCAN_SWEEP_SECONDS),
    }
# OSV exports (all.zip or .json URLs) imported every OSV_REFRESH_SECONDS; none by default (offline).
OSV_FEED_URLS = env_list("OSV_FEED_URLS", [])
OSV_REFRESH_SECONDS = env_int("OSV_REFRESH_SECONDS", 24 * 3600)
OSV_FEED_TIMEOUT_SECONDS = env_int("OSV_FEED_TIMEOUT_SECONDS", 60)
if OSV_FEED_URLS and OSV_REFRESH_SECONDS > 0:
    CELERY_BEAT_SCHEDULE["osv-refresh"] = {
        "task": "scanning.tasks.osv_feeds_refresh",
        "schedule": float(OSV_REFRESH_SECONDS),
    }

# Webhooks
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", False)
WEBHOOK_RETRY_BACKOFF_SECONDS = env_int("WEBHOOK_RETRY_BACKOFF_SECONDS", 10)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
WEBHOOK_DISABLE_AFTER_FAILURES = env_int("WEBHOOK_DISABLE_AFTER_FAILURES", 20)
# How often (and how late) the sweep re-queues pending deliveries left behind by a broker outage.
WEBHOOK_SWEEP_SECONDS = env_int("WEBHOOK_SWEEP_SECONDS", 30)
# Webhook payload links use SITE_URL when it is set, else the URL a hook was made on.

# Mirror (pull-through cache of another registry)
MIRROR_UPSTREAM_URL = env_str("MIRROR_UPSTREAM_URL", "")
MIRROR_UPSTREAM_USERNAME = env_str("MIRROR_UPSTREAM_USERNAME", "")
MIRROR_UPSTREAM_PASSWORD = env_str("MIRROR_UPSTREAM_PASSWORD", "")
MIRROR_CACHE_TTL_SECONDS = env_int("MIRROR_CACHE_TTL_SECONDS", 3600)
MIRROR_REQUIRE_SIGN_IN = env_bool("MIRROR_REQUIRE_SIGN_IN", False)
# Seconds to wait for an upstream to accept a connection, and between two reads from it.
MIRROR_UPSTREAM_CONNECT_TIMEOUT = env_int("MIRROR_UPSTREAM_CONNECT_TIMEOUT", 5)
MIRROR_UPSTREAM_READ_TIMEOUT = env_int("MIRROR_UPSTREAM_READ_TIMEOUT", 30)
# Upstreams (and their token realms) on loopback, private or link-local addresses are refused
# unless this is true (a registry on the local network).
MIRROR_ALLOW_PRIVATE_UPSTREAMS = env_bool("MIRROR_ALLOW_PRIVATE_UPSTREAMS", False)
# Token realms, besides the upstream's own host, that may receive the upstream credentials.
MIRROR_TOKEN_REALM_HOSTS = [
    host.lower() for host in env_list("MIRROR_TOKEN_REALM_HOSTS", ["auth.docker.io"])
]
# A blob fetch that shows no progress this long has its single-flight lock broken (a wedged or
# lost holder); at least a few read timeouts, so a slow upstream is not taken for a dead one.
MIRROR_FETCH_STALE_SECONDS = max(
    env_int("MIRROR_FETCH_STALE_SECONDS", 300), 3 * MIRROR_UPSTREAM_READ_TIMEOUT
)
# Stale fetch locks and what finished fetches left in staging are swept this often (0: never).
MIRROR_FETCH_SWEEP_SECONDS = env_int("MIRROR_FETCH_SWEEP_SECONDS", 3600)
if MIRROR_FETCH_SWEEP_SECONDS > 0:
    CELERY_BEAT_SCHEDULE["mirror-fetch-locks-sweep"] = {
        "task": "registry_api.tasks.mirror_fetch_locks_sweep",
        "schedule": float(MIRROR_FETCH_SWEEP_SECONDS),
    }

# REST API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "hub.authentication.AccessTokenAuthentication",
        "hub.authentication.BasicAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Views name their own permissions; without ANONYMOUS_READ, anonymous callers get 401.
    "DEFAULT_PERMISSION_CLASSES": ["hub.api_permissions.AnonymousReadAllowed"],
    "DEFAULT_PARSER_CLASSES": [
        "hub.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "hub.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "600/minute"),
        "user": env_str("API_THROTTLE_USER", "3000/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Dockyard API",
    "DESCRIPTION": "Repositories, tags, stars, comments, collaborators, organizations, "
    "access tokens and webhooks of a Dockyard registry.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["hub.api_permissions.AnonymousReadAllowed"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Swagger UI and Redoc assets come from drf-spectacular-sidecar: no CDN on a closed network.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Two "role" choice sets (collaborator, organization member): name them, not hash them.
    "ENUM_NAME_OVERRIDES": {
        "CollaboratorRoleEnum": "hub.models.Collaborator.Role",
        "MembershipRoleEnum": "hub.models.Membership.Role",
        "InvitationStatusEnum": "hub.models.Invitation.STATUSES",
        "SigningKeyKindEnum": "hub.models.SigningKey.Kind",
        "ReferrerKindEnum": "registry_api.selectors.referrers.KIND_ORDER",
    },
}
INSTALLED_APPS += ["drf_spectacular_sidecar"]

# Logs: one line per record on stderr, plain text or (LOG_FORMAT=json) one JSON object per line
# with time, level, logger, message, request_id and exception; the same for gunicorn's error log
# (config/gunicorn.py) and Celery (config/celery.py). ACCESS_LOG=0 drops the access lines
# (logger dockyard.access, config/access_log.py).
LOG_FORMAT = env_choice("LOG_FORMAT", "text", ("text", "json"))
ACCESS_LOG = env_bool("ACCESS_LOG", True)

# Audit log: entries are kept AUDIT_LOG_RETENTION_DAYS (0: forever) and forwarded as JSON lines
# to AUDIT_LOG_FILE and/or AUDIT_LOG_SYSLOG (udp://host:port, tcp://host:port or /dev/log).
# Pulls are many: AUDIT_PULLS is none, all, or the fraction of pulls recorded (e.g. 0.01).
AUDIT_LOG_RETENTION_DAYS = env_int("AUDIT_LOG_RETENTION_DAYS", 90)
AUDIT_LOG_FILE = env_str("AUDIT_LOG_FILE", "")
AUDIT_LOG_SYSLOG = env_str("AUDIT_LOG_SYSLOG", "")
AUDIT_PULLS = env_str("AUDIT_PULLS", "none")
if AUDIT_PULLS not in ("none", "all") and not (
    AUDIT_PULLS.replace(".", "", 1).isdigit() and 0 <= float(AUDIT_PULLS) <= 1
):
    raise ValueError(f"AUDIT_PULLS must be none, all or a fraction 0..1, not {AUDIT_PULLS!r}")
CELERY_BEAT_SCHEDULE["audit-prune"] = {"task": "hub.tasks.audit_prune", "schedule": 86400.0}

_AUDIT_HANDLERS = audit_handlers_config(file=AUDIT_LOG_FILE, syslog=AUDIT_LOG_SYSLOG)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "registry_protocol": {"()": "config.log_filters.RegistryProtocolAnswers"},
        "request_id": {"()": "config.request_context.RequestIdFilter"},
    },
    "formatters": {
        "json": {"()": "config.logs.JsonFormatter"},
        "audit": {"format": "%(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            **({"formatter": "json"} if LOG_FORMAT == "json" else {}),
        },
        **_AUDIT_HANDLERS,
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # The registry's 401 challenges and 404 blob probes are protocol: logged with
        # LOG_LEVEL=DEBUG.
        "django.request": {"filters": ["registry_protocol"]},
        # Access lines whatever LOG_LEVEL says (ACCESS_LOG=0 turns them off).
        "dockyard.access": {"level": "INFO"},
        # Audit entries go only where AUDIT_LOG_FILE / AUDIT_LOG_SYSLOG say, not to the console.
        "dockyard.audit": {"handlers": list(_AUDIT_HANDLERS), "level": "INFO", "propagate": False},
    },
}

# Pull rate limits (registry_api/rate_limits.py), as Docker Hub's: manifest GETs per window,
# per anonymous address (IPv6: its /64) and per account; unset means unlimited.
PULL_RATE_LIMIT_ANONYMOUS = env_rate("PULL_RATE_LIMIT_ANONYMOUS")
PULL_RATE_LIMIT_AUTHENTICATED = env_rate("PULL_RATE_LIMIT_AUTHENTICATED")

# /metrics (config/metrics.py): with a token, only `Authorization: Bearer <token>` reads it;
# without one, only loopback clients that came through no proxy.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")

# Company sign-in with LDAP / Active Directory (config/ldap.py; LOCAL_SIGN_IN, LDAP_*).
from config.ldap import ldap_settings  # noqa: E402

globals().update(ldap_settings())
# ... and OpenID Connect (config/oidc.py; OIDC_*), beside LDAP or alone.
from config.oidc import oidc_settings  # noqa: E402

globals().update(oidc_settings(AUTHENTICATION_BACKENDS))  # noqa: F821 (set just above)
if OIDC_ENABLED:  # noqa: F821
    # Chromium applies form-action to the redirect after a form: sign-out goes on to the IdP.
    from urllib.parse import urlsplit as _urlsplit

    _issuer = _urlsplit(OIDC_ISSUER)  # noqa: F821
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(
        f"{_issuer.scheme}://{_issuer.netloc}"
    )
if LDAP_ENABLED:  # noqa: F821 (set just above)
    CELERY_IMPORTS = ["hub.tasks_directory"]
    CELERY_BEAT_SCHEDULE["directory-sync"] = {
        "task": "hub.tasks_directory.directory_sync",
        "schedule": float(LDAP_SYNC_INTERVAL),  # noqa: F821
    }
