from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry_api", "0010_pull_rate_limits"),
    ]

    operations = [
        migrations.AddField(
            model_name="blob",
            name="storage_key",
            field=models.CharField(blank=True, default="", max_length=1024),
        ),
    ]
