"""CSV downloads the console streams (members, survey answers): rows leave as the server-side cursor reads
them, every cell through common.csvcells (nothing a spreadsheet would run as a formula), phone numbers
masked for readers who see them masked, and the export's record finished only when the whole file went."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence

from django_tenants.utils import schema_context

from common.csvcells import csv_cell
from members.services import export_record_finish

CHUNK_ROWS = 500


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(
    *,
    columns: Sequence[str],
    rows: Iterable[Sequence],
    schema_name: str,
    record_id: int,
    mask: Callable[[str], str] | None = None,
) -> Iterator[str]:
    """The header (with a BOM, for spreadsheets), then the rows in chunks, read in `schema_name`: the
    response is consumed after the view returns, so the schema is pinned for the cursor's life, and only
    once the header went (a download stopped after it leaves no connection in the leader's schema)."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([csv_cell(name) for name in columns])
    with schema_context(schema_name):
        yield from _rows_lines(writer, columns=columns, rows=rows, record_id=record_id, mask=mask)


def _rows_lines(writer, *, columns, rows, record_id, mask) -> Iterator[str]:
    phone_at = list(columns).index("phone")
    buffer, count = [], 0
    for row in rows:
        if mask is not None:  # a reader who sees numbers masked gets them masked in the file too
            row = (*row[:phone_at], mask(row[phone_at]), *row[phone_at + 1 :])
        buffer.append(writer.writerow([csv_cell(value) for value in row]))
        count += 1
        if len(buffer) >= CHUNK_ROWS:
            yield "".join(buffer)
            buffer = []
    if buffer:
        yield "".join(buffer)
    # Reached only when the whole file went out: a download cut short keeps no row count.
    export_record_finish(record_id=record_id, row_count=count)
