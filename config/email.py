"""EMAIL_URL: one variable for where mail goes, parsed into Django's EMAIL_* settings.

    smtp://user:pass@host:port       plain SMTP (port 25), AUTH when a user is given
    smtp+tls://user:pass@host:port   SMTP with STARTTLS (port 587)
    smtps://user:pass@host:port      SMTP over implicit TLS (port 465)
    console://                       print mails on the server's standard output
    file:///path/to/dir              one .log file per mail in that directory
    file://                          the same, in the default directory (DATA_DIR/mail)

User and password are percent-decoded (write `@` as %40, `:` as %3A).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
CONSOLE_BACKEND = "django.core.mail.backends.console.EmailBackend"
FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"

# scheme -> (default port, STARTTLS, implicit TLS)
_SMTP_SCHEMES = {
    "smtp": (25, False, False),
    "smtp+tls": (587, True, False),
    "smtps": (465, False, True),
}


def _invalid(url: str, reason: str) -> ImproperlyConfigured:
    # Never echo the URL itself: it may hold a password.
    scheme = url.partition("://")[0] or "(none)"
    return ImproperlyConfigured(f"Environment variable EMAIL_URL is invalid ({scheme}): {reason}")


def email_settings(url: str, *, default_file_path: Path) -> dict:
    """Return the EMAIL_* settings that EMAIL_URL names."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if parts.query or parts.fragment:
        raise _invalid(url, "query strings and fragments are not supported")
    if scheme in _SMTP_SCHEMES:
        return _smtp_settings(url, parts, scheme)
    if scheme == "console":
        if parts.netloc or parts.path:
            raise _invalid(url, "console:// takes nothing after the scheme")
        return {"EMAIL_BACKEND": CONSOLE_BACKEND}
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise _invalid(url, "write file:///absolute/path (three slashes) or file://")
        path = Path(unquote(parts.path)) if parts.path not in ("", "/") else default_file_path
        return {"EMAIL_BACKEND": FILE_BACKEND, "EMAIL_FILE_PATH": path}
    raise _invalid(url, "use smtp://, smtp+tls://, smtps://, console:// or file://")


def _smtp_settings(url: str, parts, scheme: str) -> dict:
    default_port, use_tls, use_ssl = _SMTP_SCHEMES[scheme]
    if not parts.hostname:
        raise _invalid(url, "no host name")
    if parts.path not in ("", "/"):
        raise _invalid(url, "an SMTP URL has no path")
    bad_port = "the port is not a number between 1 and 65535"
    try:
        port = parts.port
    except ValueError as exc:
        raise _invalid(url, bad_port) from exc
    if port == 0:
        raise _invalid(url, bad_port)
    if parts.password is not None and not parts.username:
        raise _invalid(url, "a password without a user name")
    return {
        "EMAIL_BACKEND": SMTP_BACKEND,
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port or default_port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": use_tls,
        "EMAIL_USE_SSL": use_ssl,
    }
