"""One account per e-mail address (case-insensitive), so a password reset mails one account.

A database may already hold accounts sharing an address. The migration must not fail there, and
it cannot guess which account owns the mailbox: the oldest account keeps the address, the later
ones get a blank e-mail (they can no longer reset by e-mail until they set an address again), and
each change is printed so an administrator can follow up.
"""

import django.db.models.functions.text
from django.db import migrations, models
from django.db.models.functions import Lower


def blank_later_duplicates(apps, schema_editor):
    User = apps.get_model("hub", "User")
    seen = set()
    users = User.objects.exclude(email="").annotate(email_key=Lower("email")).order_by("pk")
    for user in users.only("pk", "username", "email").iterator():
        if user.email_key not in seen:
            seen.add(user.email_key)
            continue
        print(
            f"\n  hub.0004: {user.username}'s e-mail {user.email} is also an older account's;"
            " cleared it (one account per address)."
        )
        User.objects.filter(pk=user.pk).update(email="")


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("hub", "0003_comment_body_max_length"),
    ]

    operations = [
        migrations.RunPython(blank_later_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("email"),
                condition=models.Q(("email", ""), _negated=True),
                name="user_email_unique_ci",
                violation_error_message="A user with that e-mail address already exists.",
            ),
        ),
    ]
