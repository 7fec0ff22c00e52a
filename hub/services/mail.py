"""Sending our mails: a subject and a body from templates, and one refusal when the mail server
cannot take them (callers answer it; it is never a 500)."""

from __future__ import annotations

import logging
import smtplib

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

# What Django's SMTP backend raises when the server is down, refuses us or the TLS fails.
SEND_ERRORS = (smtplib.SMTPException, OSError)


class MailNotSent(ValidationError):
    def __init__(self):
        super().__init__(
            _("The mail could not be sent now. Try again later, or ask an administrator.")
        )


def mail_send(*, template: str, context: dict, to: str) -> None:
    """Send `<template>_subject.txt` and `<template>_email.txt`, rendered with `context`."""
    subject = render_to_string(f"{template}_subject.txt", context).strip()
    body = render_to_string(f"{template}_email.txt", context)
    try:
        send_mail(subject, body, None, [to])
    except SEND_ERRORS as exc:
        # The address is the recipient's: log where the failure is, not whom it was for.
        logger.warning("Mail %s not sent: %s: %s", template, type(exc).__name__, exc)
        raise MailNotSent() from exc
