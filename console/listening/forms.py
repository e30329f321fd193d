"""Forms of listening: a cell of the matrix as a filter (topic, region, language, since, until), shared with
the inbox's conversation list; the matrix's view (time range, axis, measure); a segment's tag.

A cell's filter travels in URLs, so it carries no personal data: a topic id, a region's name, a language
code and dates only."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from topics.models import Topic
from triage.selectors import UNSORTED, Cell

UNKNOWN = "unknown"  # in a URL: the unknown place or language ("" would mean "any")
UNSORTED_VALUE = "unsorted"
RANGES = {
    "24h": datetime.timedelta(hours=24),
    "48h": datetime.timedelta(hours=48),
    "7d": datetime.timedelta(days=7),
}
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"]


def moment_text(moment: datetime.datetime) -> str:
    """A moment as the filters write it in URLs: UTC, ISO 8601."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cell_query(cell: Cell) -> dict[str, str]:
    """The URL parameters of a cell's filter (CellFilterForm reads them back)."""
    query: dict[str, str] = {}
    if cell.topic is not None:
        query["topic"] = UNSORTED_VALUE if cell.topic == UNSORTED else str(cell.topic)
    if cell.region is not None:
        query["region"] = cell.region or UNKNOWN
    if cell.language is not None:
        query["language"] = cell.language or UNKNOWN
    if cell.since is not None:
        query["since"] = moment_text(cell.since)
    if cell.until is not None:
        query["until"] = moment_text(cell.until)
    return query


class CellFilterForm(forms.Form):
    """The filter of a matrix cell. Unknown topics, malformed dates and reversed ranges are form errors."""

    topic = forms.ChoiceField(label=_("Topic"), required=False)
    region = forms.CharField(label=_("Region"), required=False, max_length=120)
    language = forms.CharField(label=_("Language of the text"), required=False, max_length=8)
    since = forms.DateTimeField(label=_("From"), required=False, input_formats=DATETIME_FORMATS)
    until = forms.DateTimeField(label=_("Until"), required=False, input_formats=DATETIME_FORMATS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topic"].choices = [
            ("", _("Any topic")),
            (UNSORTED_VALUE, _("Unsorted")),
            *((str(pk), name) for pk, name in Topic.objects.values_list("pk", "name")),
        ]
        self.fields["since"].widget.attrs["placeholder"] = "2026-12-01"
        self.fields["until"].widget.attrs["placeholder"] = "2026-12-02"

    def clean_language(self) -> str:
        language = self.cleaned_data["language"].strip().lower()
        if (
            language
            and language != UNKNOWN
            and not (language.isascii() and language.replace("-", "").isalpha())
        ):
            raise forms.ValidationError(_("A language is a code like “fr” or “es”."))
        return language

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since >= until:
            self.add_error("until", _("The end comes before the start."))
        return cleaned

    def cell(self) -> Cell:
        data = self.cleaned_data
        topic = data.get("topic") or ""
        region = " ".join((data.get("region") or "").split())
        language = data.get("language") or ""
        return Cell(
            topic=None if not topic else UNSORTED if topic == UNSORTED_VALUE else int(topic),
            region=None if not region else "" if region.lower() == UNKNOWN else region,
            language=None if not language else "" if language == UNKNOWN else language,
            since=data.get("since"),
            until=data.get("until"),
        )


class MatrixForm(forms.Form):
    """How the matrix is shown: the time range, regions or languages, open texts or all of them."""

    range = forms.ChoiceField(
        label=_("Time range"),
        required=False,
        choices=[
            ("24h", _("Last 24 hours")),
            ("48h", _("Last 48 hours")),
            ("7d", _("Last 7 days")),
            ("custom", _("Custom")),
        ],
    )
    since = forms.DateTimeField(label=_("From"), required=False, input_formats=DATETIME_FORMATS)
    until = forms.DateTimeField(label=_("Until"), required=False, input_formats=DATETIME_FORMATS)
    axis = forms.ChoiceField(
        label=_("Columns"), required=False, choices=[("region", _("Regions")), ("language", _("Languages"))]
    )
    measure = forms.ChoiceField(
        label=_("Count"), required=False, choices=[("open", _("Open texts")), ("texts", _("All texts"))]
    )
    columns = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[("top", _("The busiest, the rest in “Other”")), ("all", _("All"))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["since"].widget.attrs["placeholder"] = "2026-12-01"
        self.fields["until"].widget.attrs["placeholder"] = "2026-12-02"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        chosen = cleaned.get("range") or "24h"
        cleaned["range"] = chosen
        cleaned["axis"] = cleaned.get("axis") or "region"
        cleaned["measure"] = cleaned.get("measure") or "open"
        if chosen == "custom":
            since, until = cleaned.get("since"), cleaned.get("until")
            if since is None and "since" not in self.errors:
                self.add_error("since", _("Choose where the range starts."))
            elif since and until and since >= until:
                self.add_error("until", _("The end comes before the start."))
        else:
            cleaned["since"] = timezone.now() - RANGES[chosen]
            cleaned["until"] = None
        return cleaned


class SegmentForm(forms.Form):
    tag = forms.CharField(
        label=_("Tag name"),
        max_length=50,
        help_text=_("Every member who wrote a text here gets this tag; a broadcast can then go to them."),
        error_messages={"required": _("Give the segment a tag name.")},
    )
