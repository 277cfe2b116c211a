# The approved minutes' PDF (issue 19), archived byte for byte with its hash on the minutes.

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('governance', '0019_meeting_invitations'),
    ]

    operations = [
        migrations.AddField(
            model_name='minutes',
            name='pdf_sha256',
            field=models.CharField(blank=True, editable=False, help_text='SHA-256 of the archived PDF of the approved minutes.', max_length=64),
        ),
        migrations.CreateModel(
            name='MinutesPdf',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('content', models.BinaryField(editable=False)),
                ('made_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('minutes', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='pdf', to='governance.minutes')),
            ],
            options={
                'verbose_name': 'PDF of minutes',
                'verbose_name_plural': 'PDFs of minutes',
            },
        ),
    ]
