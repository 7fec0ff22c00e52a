"""Signals other apps listen to, so the registry never imports them."""

from django.dispatch import Signal

# Sent after the push's transaction commits, with `manifest_id`: an image, index or artifact
# manifest is now stored (by tag or by digest). Receivers must not slow the push: queue work.
manifest_pushed = Signal()
