# Hand-written: keep it when migrations are regenerated. The database cache (settings.CACHES without
# REDIS_URL) needs its table; it lives in the public schema so every leader's search path sees one table.
from django.db import migrations

CREATE = """
CREATE TABLE IF NOT EXISTS public.community_cache (
    cache_key varchar(255) NOT NULL PRIMARY KEY,
    value text NOT NULL,
    expires timestamp with time zone NOT NULL
);
CREATE INDEX IF NOT EXISTS community_cache_expires ON public.community_cache (expires);
"""


class Migration(migrations.Migration):
    dependencies = [("console", "0001_initial")]

    operations = [migrations.RunSQL(CREATE, reverse_sql=migrations.RunSQL.noop)]
