"""Forms of the inbox: the list's filters (with triage's: topic, region, language, dates), a reply, an
assignment, canned replies, a text's move to another topic."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from console.inbox.selectors import InboxFilter
from console.inbox.services import REPLY_MAX_LENGTH
from console.listening.forms import UNSORTED_VALUE, CellFilterForm
from console.models import CannedReply


class InboxFilterForm(CellFilterForm):
    """The folders and filters of the list; a matrix cell opens the inbox with its topic, region, language
    and dates (console.listening.forms.CellFilterForm)."""

    folder = forms.ChoiceField(
        label=_("Folder"),
        required=False,
        choices=[
            ("open", _("All open")),
            ("unread", _("Unread")),
            ("mine", _("Assigned to me")),
            ("teams", _("Assigned to my teams")),
            ("volunteers", _("Volunteers")),
            ("overdue", _("Overdue")),
            ("done", _("Done")),
            ("all", _("All")),
        ],
    )
    city = forms.CharField(label=_("City"), required=False, max_length=120)
    tag = forms.CharField(label=_("Tag"), required=False, max_length=50)
    q = forms.CharField(label=_("Words in the texts"), required=False, max_length=100)

    def to_filter(self) -> InboxFilter:
        data = self.cleaned_data
        return InboxFilter(
            folder=data.get("folder") or "open",
            city=data["city"],
            tag=data["tag"],
            q=data["q"],
            cell=self.cell(),
        )


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Reply"),
        max_length=REPLY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": REPLY_MAX_LENGTH}),
    )


class AssignForm(forms.Form):
    user = forms.ModelChoiceField(
        label=_("Assigned to"), queryset=None, required=False, empty_label=_("No one")
    )

    def __init__(self, *args, users=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = users


class CannedReplyForm(forms.ModelForm):
    class Meta:
        model = CannedReply
        fields = ["title", "body"]
        labels = {"title": _("Title"), "body": _("Text")}
        widgets = {"body": forms.Textarea(attrs={"rows": 3, "maxlength": CannedReply.MAX_BODY_LENGTH})}


class LabelMoveForm(forms.Form):
    """Which topic a text is about, as a teammate says: one of the leader's topics, or unsorted."""

    topic = forms.ChoiceField(label=_("Topic"))

    def __init__(self, *args, topics=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.topics = {str(topic.pk): topic for topic in topics}
        self.fields["topic"].choices = [
            *((key, topic.name) for key, topic in self.topics.items()),
            (UNSORTED_VALUE, _("Unsorted")),
        ]

    def chosen_topic(self):
        """The topics.Topic chosen, or None for unsorted."""
        return self.topics.get(self.cleaned_data["topic"])
