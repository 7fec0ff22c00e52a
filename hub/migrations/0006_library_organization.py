"""The `library` organization: official images, reachable by single-component names (`centos`).

Created without members: superusers administer it and add the owners, members or teams who
may push official images.
"""

from django.db import migrations


def library_create(apps, schema_editor):
    Organization = apps.get_model("hub", "Organization")
    Namespace = apps.get_model("hub", "Namespace")
    if Namespace.objects.filter(name="library").exists():
        return
    organization, _ = Organization.objects.get_or_create(
        name="library",
        defaults={"display_name": "Official images", "description": "Official images"},
    )
    Namespace.objects.create(name="library", kind="org", organization=organization)


class Migration(migrations.Migration):
    dependencies = [("hub", "0005_name_patterns_end_at_string_end")]

    operations = [migrations.RunPython(library_create, migrations.RunPython.noop)]
