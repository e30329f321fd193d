"""Listening: the live matrix of topics × regions (or languages) of the fans' texts, each cell opening as a
filtered inbox, and segments made from a cell. Thin views over triage.selectors and triage.segments."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from console.decorators import MANAGER, manager_required, teammate_required, user_may
from console.listening.forms import CellFilterForm, MatrixForm, SegmentForm, cell_query
from console.listening.names import language_name
from topics.models import Topic
from triage import selectors
from triage.segments import SegmentError, segment_from_cell
from triage.selectors import UNSORTED, Cell

POLL_SECONDS = 5


def column_label(axis: str, key: str | None) -> str:
    if key is None:
        return _("Other")
    if key == "":
        return _("Unknown place") if axis == "region" else _("Unknown language")
    return language_name(key) if axis == "language" else key


def _table(matrix: selectors.Matrix, *, can_segment: bool) -> dict:
    """The matrix as the template draws it: every cell with its count, the inbox it opens and, for those
    who may make one, its segment link. "Other" cells (many regions at once) open nothing."""
    folder = "open" if matrix.measure == "open" else "all"
    inbox = reverse("inbox")
    segment = reverse("console:listening_segment")
    columns = [
        {"label": column_label(matrix.axis, column.key), "total": column.total} for column in matrix.columns
    ]
    rows = []
    for row in matrix.rows:
        name = row.name if row.topic_id != UNSORTED else _("Unsorted")
        cells = []
        for column, value in zip(matrix.columns, row.cells, strict=True):
            link = segment_link = None
            if column.key is not None:
                cell = Cell(
                    topic=row.topic_id, since=matrix.since, until=matrix.until, **{matrix.axis: column.key}
                )
                query = cell_query(cell)
                if value:
                    link = f"{inbox}?{urlencode({'folder': folder, **query})}"
                    if can_segment:
                        segment_link = f"{segment}?{urlencode(query)}"
            cells.append(
                {
                    "value": value,
                    "link": link,
                    "segment": segment_link,
                    "name": f"{name} × {column_label(matrix.axis, column.key)}",
                }
            )
        row_query = cell_query(Cell(topic=row.topic_id, since=matrix.since, until=matrix.until))
        rows.append(
            {
                "name": name,
                "unsorted": row.topic_id == UNSORTED,
                "cells": cells,
                "total": row.total,
                "link": f"{inbox}?{urlencode({'folder': folder, **row_query})}" if row.total else None,
            }
        )
    return {"columns": columns, "rows": rows, "total": matrix.total}


@teammate_required
def listening(request: HttpRequest) -> HttpResponse:
    form = MatrixForm(request.GET)
    if not form.is_valid():
        return render(
            request, "console/listening/matrix.html", {"section": "listening", "form": form}, status=400
        )
    data = form.cleaned_data
    matrix = selectors.matrix(
        since=data["since"],
        until=data["until"],
        axis=data["axis"],
        measure=data["measure"],
        columns_shown=None if data.get("columns") == "all" else selectors.COLUMNS_SHOWN,
    )
    range_query = cell_query(Cell(since=matrix.since, until=matrix.until))
    context = {
        "section": "listening",
        "form": form,
        "matrix": matrix,
        "table": _table(matrix, can_segment=user_may(request.user, MANAGER)),
        "axis_label": _("Region") if matrix.axis == "region" else _("Language"),
        "unsorted_link": f"{reverse('inbox')}?{urlencode({'topic': 'unsorted'})}",
        "segment_all": f"{reverse('console:listening_segment')}?{urlencode(range_query)}",
        "poll_seconds": POLL_SECONDS,
    }
    template = (
        "console/listening/_table.html" if request.GET.get("partial") else "console/listening/matrix.html"
    )
    return render(request, template, context)


def cell_describe(cell: Cell) -> list[tuple[str, str]]:
    """The cell's filter as the segment page lists it: (what, which)."""
    parts = []
    if cell.topic is not None:
        name = _("Unsorted")
        if cell.topic != UNSORTED:
            topic = Topic.objects.filter(pk=cell.topic).values_list("name", flat=True).first()
            name = topic or str(cell.topic)
        parts.append((_("Topic"), name))
    if cell.region is not None:
        parts.append((_("Region"), cell.region or _("Unknown place")))
    if cell.language is not None:
        parts.append(
            (_("Language"), language_name(cell.language) if cell.language else _("Unknown language"))
        )
    return parts


@manager_required
def listening_segment(request: HttpRequest) -> HttpResponse:
    """GET: the cell and a tag name to give its writers. POST: tag them, then offer the broadcast."""
    cell_form = CellFilterForm(request.GET)
    form = SegmentForm(request.POST or None)
    context = {"section": "listening", "cell_form": cell_form, "form": form}
    if not cell_form.is_valid():
        return render(request, "console/listening/segment.html", context, status=400)
    cell = cell_form.cell()
    context["cell"] = cell_describe(cell)
    context["cell_since"], context["cell_until"] = cell.since, cell.until
    made = request.GET.get("made")
    if made:
        context["made"] = made
        context["preview_link"] = f"{reverse('broadcasts_new')}?{urlencode({'tags_any': made})}"
        context["inbox_link"] = f"{reverse('inbox')}?{urlencode({'folder': 'all', **cell_query(cell)})}"
    if request.method == "POST" and form.is_valid():
        try:
            segment = segment_from_cell(cell=cell, tag=form.cleaned_data["tag"])
        except SegmentError as error:
            form.add_error("tag", str(error))
        else:
            messages.success(
                request,
                _(
                    "Members who wrote here and carry the tag “%(tag)s”: %(members)d. Newly tagged: %(tagged)d."
                )
                % {"members": segment.members, "tag": segment.tag, "tagged": segment.tagged},
            )
            query = urlencode({**cell_query(cell), "made": segment.tag})
            return redirect(f"{reverse('console:listening_segment')}?{query}")
    status = 400 if form.errors else 200
    return render(request, "console/listening/segment.html", context, status=status)
