
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import foodrisk.core.fields
import foodrisk.enterprises.models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('core', '0007_purge_files_schedule'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ClientSystem',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, verbose_name='system name')),
                ('organisation', models.CharField(max_length=100, verbose_name='operating organisation')),
                ('contact', models.CharField(blank=True, max_length=100, verbose_name='contact')),
                ('app_key', models.CharField(editable=False, max_length=40, unique=True, verbose_name='app key')),
                ('secret', foodrisk.core.fields.EncryptedTextField(editable=False, verbose_name='secret')),
                ('previous_secret', foodrisk.core.fields.EncryptedTextField(blank=True, editable=False, verbose_name='previous secret')),
                ('previous_valid_until', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='previous secret valid until')),
                ('algorithm', models.CharField(choices=[('hmac-sha256', 'HMAC-SHA256'), ('hmac-sm3', 'HMAC-SM3')], default='hmac-sha256', max_length=12, verbose_name='signature algorithm')),
                ('grants', models.JSONField(blank=True, default=dict, encoder=foodrisk.enterprises.models.UnicodeJSONEncoder, help_text='{dataset: [field, …]}', verbose_name='granted fields')),
                ('unmasked', models.JSONField(blank=True, default=list, encoder=foodrisk.enterprises.models.UnicodeJSONEncoder, verbose_name='sensitive fields sent unmasked')),
                ('rate_per_minute', models.PositiveIntegerField(default=60, verbose_name='calls per minute')),
                ('ip_allow', models.JSONField(blank=True, default=list, encoder=foodrisk.enterprises.models.UnicodeJSONEncoder, help_text='Empty = any address.', verbose_name='allowed IP addresses / networks')),
                ('valid_from', models.DateField(blank=True, null=True, verbose_name='valid from')),
                ('valid_until', models.DateField(blank=True, null=True, verbose_name='valid until')),
                ('status', models.CharField(choices=[('pending', 'Awaiting approval'), ('active', 'Active'), ('rejected', 'Rejected'), ('suspended', 'Suspended')], db_index=True, default='pending', max_length=10, verbose_name='status')),
                ('note', models.TextField(blank=True, verbose_name='purpose and legal basis')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='registered')),
                ('approved_at', models.DateTimeField(blank=True, null=True, verbose_name='decided')),
                ('approved_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='approved / rejected by')),
                ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='registered by')),
                ('region', models.ForeignKey(blank=True, help_text='Empty = nationwide (only a nationwide administrator can grant it).', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.region', verbose_name='region scope')),
            ],
            options={
                'verbose_name': 'client system',
                'verbose_name_plural': 'client systems',
                'ordering': ['name', 'pk'],
                'permissions': [('approve_clientsystem', 'Can approve client systems and their grants')],
            },
        ),
        migrations.CreateModel(
            name='Nonce',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('nonce', models.CharField(max_length=64)),
                ('at', models.DateTimeField(db_index=True)),
                ('client', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='sharing.clientsystem')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('client', 'nonce'), name='sharing_nonce_once')],
            },
        ),
        migrations.CreateModel(
            name='SharingCall',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('app_key', models.CharField(blank=True, max_length=40, verbose_name='app key')),
                ('method', models.CharField(max_length=8, verbose_name='method')),
                ('path', models.CharField(max_length=300, verbose_name='path')),
                ('query', models.CharField(blank=True, max_length=500, verbose_name='parameters')),
                ('status', models.PositiveSmallIntegerField(verbose_name='HTTP status')),
                ('code', models.CharField(max_length=32, verbose_name='result code')),
                ('rows', models.PositiveIntegerField(default=0, verbose_name='rows')),
                ('latency_ms', models.PositiveIntegerField(default=0, verbose_name='latency (ms)')),
                ('ip', models.GenericIPAddressField(blank=True, null=True, verbose_name='IP address')),
                ('at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='time')),
                ('client', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='calls', to='sharing.clientsystem', verbose_name='client system')),
            ],
            options={
                'verbose_name': 'sharing call',
                'verbose_name_plural': 'sharing calls',
                'ordering': ['-at', '-pk'],
                'default_permissions': ('view',),
                'indexes': [models.Index(fields=['client', 'at'], name='sharing_sha_client__15c7eb_idx')],
            },
        ),
    ]
