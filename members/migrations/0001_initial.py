"""Member and ConsentRecord move from the signup app to members: Django's state only. The tables keep their
names (signup_member, signup_consentrecord) and no row moves, so this costs nothing in any schema."""

import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.core.validators
import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('signup', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Member',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('phone', models.CharField(max_length=16, unique=True, validators=[django.core.validators.RegexValidator('^\\+[1-9]\\d{6,14}$', 'Enter a phone number in E.164 form, like +12025550142.')])),
                        ('first_name', models.CharField(blank=True, max_length=60)),
                        ('last_name', models.CharField(blank=True, max_length=60)),
                        ('gender', models.CharField(blank=True, choices=[('female', 'Female'), ('male', 'Male'), ('non_binary', 'Non-binary'), ('another', 'Another gender'), ('undisclosed', 'Prefer not to say')], max_length=16)),
                        ('birth_date', models.DateField(blank=True, null=True)),
                        ('email', models.EmailField(blank=True, max_length=254)),
                        ('language', models.CharField(default='en', max_length=8)),
                        ('city', models.CharField(blank=True, max_length=120)),
                        ('place_id', models.PositiveIntegerField(blank=True, help_text='GeoNames id', null=True)),
                        ('place_name', models.CharField(blank=True, max_length=120)),
                        ('region', models.CharField(blank=True, max_length=120)),
                        ('country', models.CharField(blank=True, max_length=2)),
                        ('latitude', models.FloatField(blank=True, null=True)),
                        ('longitude', models.FloatField(blank=True, null=True)),
                        ('time_zone', models.CharField(blank=True, max_length=64)),
                        ('tags', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=50), blank=True, default=list, size=None)),
                        ('status', models.CharField(choices=[('subscribed', 'Subscribed'), ('opted_out', 'Opted out')], default='subscribed', max_length=16)),
                        ('opted_out_at', models.DateTimeField(blank=True, null=True)),
                        ('unreachable_at', models.DateTimeField(blank=True, null=True)),
                        ('joined_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                    ],
                    options={
                        'db_table': 'signup_member',
                        'indexes': [models.Index(fields=['joined_at'], name='signup_memb_joined__5dac0b_idx'), models.Index(fields=['status', 'joined_at'], name='signup_memb_status_958897_idx'), models.Index(fields=['place_id'], name='signup_memb_place_i_c31293_idx'), models.Index(fields=['country', 'region'], name='signup_memb_country_e834a8_idx'), models.Index(fields=['birth_date'], name='signup_memb_birth_d_c38f00_idx'), models.Index(fields=['gender'], name='signup_memb_gender_200649_idx'), models.Index(fields=['language'], name='signup_memb_languag_f40c35_idx'), models.Index(fields=['latitude', 'longitude'], name='signup_memb_latitud_6b4bb2_idx'), django.contrib.postgres.indexes.GinIndex(fields=['tags'], name='signup_member_tags_gin'), models.Index(django.contrib.postgres.indexes.OpClass(django.db.models.functions.text.Reverse('phone'), name='text_pattern_ops'), name='signup_member_phone_rev'), models.Index(django.contrib.postgres.indexes.OpClass(django.db.models.functions.text.Upper('first_name'), name='text_pattern_ops'), name='signup_member_first_pfx'), models.Index(django.contrib.postgres.indexes.OpClass(django.db.models.functions.text.Upper('last_name'), name='text_pattern_ops'), name='signup_member_last_pfx'), models.Index(django.contrib.postgres.indexes.OpClass(django.db.models.functions.text.Upper('email'), name='text_pattern_ops'), name='signup_member_email_pfx'), models.Index(django.contrib.postgres.indexes.OpClass(django.db.models.functions.text.Upper('city'), name='text_pattern_ops'), name='signup_member_city_pfx'), models.Index(django.contrib.postgres.indexes.OpClass(django.db.models.functions.text.Upper('place_name'), name='text_pattern_ops'), name='signup_member_place_pfx'), models.Index(condition=models.Q(('status', 'subscribed'), ('unreachable_at__isnull', True)), fields=['place_id', 'gender', 'birth_date'], name='signup_member_audience')],
                    },
                ),
                migrations.CreateModel(
                    name='ConsentRecord',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('phone_hash', models.CharField(db_index=True, max_length=64)),
                        ('kind', models.CharField(choices=[('opt_in', 'Opted in'), ('opt_out', 'Opted out')], max_length=16)),
                        ('source', models.CharField(choices=[('web_form', 'Signup form'), ('sms_keyword', 'Text keyword'), ('carrier', 'Carrier (recipient unsubscribed)'), ('import', 'Import'), ('api', 'API'), ('console', 'Console')], max_length=16)),
                        ('text', models.TextField(blank=True, help_text='What the member was shown or sent')),
                        ('text_version', models.CharField(blank=True, max_length=32)),
                        ('ip_address', models.GenericIPAddressField(blank=True, null=True)),
                        ('detail', models.CharField(blank=True, help_text='keyword, import file, API token…', max_length=200)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('member', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='consents', to='members.member')),
                    ],
                    options={
                        'db_table': 'signup_consentrecord',
                        'ordering': ['-created_at'],
                    },
                ),            ],
        ),
    ]
