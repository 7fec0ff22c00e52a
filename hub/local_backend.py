"""Local passwords, refused for people when LOCAL_SIGN_IN is false.

Robots (`<ns>+<name>`, whose password is their secret) are not "local sign-in" and keep
working; access tokens never reach a backend. Superusers keep local sign-in as the break-glass
way in when the directory is down (`manage.py changepassword` recovers one).
"""

from django.conf import settings
from django.contrib.auth.backends import ModelBackend


class LocalBackend(ModelBackend):
    def user_can_authenticate(self, user) -> bool:
        if not super().user_can_authenticate(user):
            return False
        if settings.LOCAL_SIGN_IN:
            return True
        return "+" in user.get_username() or user.is_superuser
