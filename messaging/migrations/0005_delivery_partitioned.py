"""Deliveries become a table partitioned by broadcast: one partition per broadcast from now on.

Why: queueing a broadcast to a million members was dominated by maintaining the primary key's index row by
row (about as long as writing the rows). A broadcast now writes its rows into a table of its own with no
index, builds its indexes in one sorted pass each and attaches the table as its partition
(messaging.broadcast_services.broadcast_queue, messaging.models.Delivery). Queries keep going through
``messaging_delivery``; those that name a broadcast touch only its partition.

The existing table, rows, primary key and all, becomes one partition, ``messaging_delivery_legacy``, for the
broadcasts it holds: no row moves, one scan to check the bound, a handful of locks however many broadcasts
there were. The model is unchanged (Django does not know about partitioning): database work only.
"""

from django.db import migrations

FORWARD = """
ALTER TABLE messaging_delivery RENAME TO messaging_delivery_legacy;
ALTER INDEX messaging_delivery_pkey RENAME TO messaging_delivery_legacy_pkey;
ALTER INDEX messaging_delivery_sid RENAME TO messaging_delivery_legacy_sid;
CREATE TABLE messaging_delivery (
    LIKE messaging_delivery_legacy INCLUDING DEFAULTS INCLUDING CONSTRAINTS
) PARTITION BY LIST (broadcast_id);
CREATE INDEX messaging_delivery_sid ON messaging_delivery (sid) WHERE sid IS NOT NULL;
DO $$
DECLARE broadcasts text;
BEGIN
    SELECT string_agg(DISTINCT broadcast_id::text, ', ') INTO broadcasts FROM messaging_delivery_legacy;
    IF broadcasts IS NULL THEN
        DROP TABLE messaging_delivery_legacy;
    ELSE
        EXECUTE format(
            'ALTER TABLE messaging_delivery ATTACH PARTITION messaging_delivery_legacy FOR VALUES IN (%s)',
            broadcasts
        );
    END IF;
END
$$;
"""

BACKWARD = """
ALTER TABLE messaging_delivery RENAME TO messaging_delivery_partitioned;
ALTER INDEX messaging_delivery_sid RENAME TO messaging_delivery_partitioned_sid;
CREATE TABLE messaging_delivery (
    LIKE messaging_delivery_partitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS
);
INSERT INTO messaging_delivery SELECT * FROM messaging_delivery_partitioned;
ALTER TABLE messaging_delivery ADD CONSTRAINT messaging_delivery_pkey PRIMARY KEY (broadcast_id, member_id);
CREATE INDEX messaging_delivery_sid ON messaging_delivery (sid) WHERE sid IS NOT NULL;
DROP TABLE messaging_delivery_partitioned;
"""


def _statements(script: str) -> list[str]:
    """The script's statements: split after each line that ends one (a DO block ends with `$$;`)."""
    statements, current = [], []
    for line in script.strip().splitlines():
        current.append(line)
        if line.endswith(";") and (not current[0].startswith("DO $$") or line == "$$;"):
            statements.append("\n".join(current))
            current = []
    return statements


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0004_broadcast_queued_index"),
    ]

    operations = [
        # Statement by statement (a list, not split by Django's SQL parser): the DO block holds semicolons.
        migrations.RunSQL(_statements(FORWARD), _statements(BACKWARD), elidable=False),
    ]
