# Meeting invitations (issue 19): the iCalendar sequence, each person's reply, their meeting feed.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('governance', '0018_digests'),
    ]

    operations = [
        migrations.CreateModel(
            name='MeetingFeed',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('token_hash', models.CharField(editable=False, max_length=64)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('last_used_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='meeting_feed', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('token_hash',), name='meetingfeed_unique_token')],
            },
        ),
        migrations.AddField(
            model_name='attendance',
            name='rsvp',
            field=models.CharField(choices=[('needs-action', 'No reply yet'), ('accepted', 'Will attend'), ('tentative', 'Might attend'), ('declined', 'Will not attend')], default='needs-action', editable=False, max_length=16),
        ),
        migrations.AddField(
            model_name='attendance',
            name='rsvp_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='meeting',
            name='invited_sequence',
            field=models.IntegerField(default=-1, editable=False),
        ),
        migrations.AddField(
            model_name='meeting',
            name='sequence',
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddConstraint(
            model_name='attendance',
            constraint=models.CheckConstraint(condition=models.Q(('rsvp__in', ['needs-action', 'accepted', 'tentative', 'declined'])), name='attendance_rsvp_valid', violation_error_message='A reply is accepted, tentative, declined or none yet.'),
        ),
    ]
