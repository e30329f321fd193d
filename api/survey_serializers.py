"""What the API reads and writes of surveys (docs/api.md, "Surveys"). Kept beside api/serializers.py, whose
fields and conventions it uses, so each file stays readable.

Input serializers check the JSON's shape and bounds (what the OpenAPI schema states); what a survey means
(the default language in every text, a question with its options within the limit, choices only where the
kind has them, ranges, topics, the structure of a survey that went out) is checked by surveys.editing, the
console's rules too."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import (
    AudienceFilterSerializer,
    PhoneMaskedForReaderMixin,
    StrictCharField,
    StrictIntegerField,
    TextField,
    _refuse_unknown_keys,
)
from surveys import editing
from surveys.models import (
    MAX_CHOICES,
    MAX_QUESTION_LENGTH,
    MAX_QUESTIONS,
    MAX_WINDOW_HOURS,
    Question,
    Run,
    Survey,
)

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]
MAX_ID = 2**63 - 1
ONE_TAG = RegexValidator(r"^[^,;\x00]*$", "One tag: no comma or semicolon.", code="invalid")


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false: "yes" and 1 are not booleans (DRF would quietly take them)."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


def _texts_serializer(name: str, max_length: int, help_text: str) -> type[serializers.Serializer]:
    """A {language: text} object: one optional string per language the platform speaks, nothing else."""

    def to_internal_value(self, data):
        _refuse_unknown_keys(data, self.fields, "Unknown language; known:")
        values = serializers.Serializer.to_internal_value(self, data)
        return {code: text for code, text in values.items() if text is not None}

    fields = {
        code: StrictCharField(max_length=max_length, required=False, allow_blank=True, allow_null=True)
        for code in LANGUAGE_CODES
    }
    return type(
        name,
        (serializers.Serializer,),
        {
            **fields,
            "__doc__": help_text,
            "schema_extra": {"additionalProperties": False},
            "to_internal_value": to_internal_value,
        },
    )


QuestionTextSerializer = _texts_serializer(
    "QuestionTextSerializer",
    MAX_QUESTION_LENGTH,
    "The question per language. The leader's default language is required; with its options listed after it "
    f'(" 1 Health 2 Housing"), it is at most {MAX_QUESTION_LENGTH} characters in each language.',
)
ChoiceLabelSerializer = _texts_serializer(
    "ChoiceLabelSerializer",
    editing.MAX_LABEL_LENGTH,
    "The choice's label per language (the default one required).",
)
SurveyTextSerializer = _texts_serializer(
    "SurveyTextSerializer",
    editing.MAX_AROUND_LENGTH,
    "A text per language; when any is given, the leader's default language is.",
)


class ChoiceWriteSerializer(serializers.Serializer):
    id = StrictIntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        help_text="An existing choice's id, to keep it.",
    )
    label = ChoiceLabelSerializer()
    synonyms = serializers.ListField(
        child=TextField(max_length=editing.MAX_SYNONYM_LENGTH),
        max_length=editing.MAX_SYNONYMS,
        required=False,
        help_text="Other words members may answer with, in any language.",
    )
    topic = StrictIntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        help_text="A topic the member then follows.",
    )
    tag = StrictCharField(
        max_length=editing.MAX_TAG_LENGTH,
        required=False,
        allow_blank=True,
        validators=[ONE_TAG],
        help_text="A tag the member then carries (lower-cased).",
    )

    schema_extra = {"additionalProperties": False}

    def to_internal_value(self, data):
        _refuse_unknown_keys(data, self.fields, "Unknown field; known:")
        return super().to_internal_value(data)


class QuestionWriteSerializer(serializers.Serializer):
    id = StrictIntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        help_text="An existing question's id, to keep it.",
    )
    kind = serializers.ChoiceField(choices=Question.Kind.choices)
    text = QuestionTextSerializer()
    number_min = StrictIntegerField(
        min_value=-editing.NUMBER_LIMIT, max_value=editing.NUMBER_LIMIT, required=False, allow_null=True
    )
    number_max = StrictIntegerField(
        min_value=-editing.NUMBER_LIMIT, max_value=editing.NUMBER_LIMIT, required=False, allow_null=True
    )
    choices = serializers.ListField(
        child=ChoiceWriteSerializer(),
        max_length=MAX_CHOICES,
        required=False,
        help_text=f"2 to {MAX_CHOICES} for `single` and `multiple`; none for the other kinds. Members reply with "
        "their numbers (their order), or their words.",
    )

    schema_extra = {"additionalProperties": False}

    def to_internal_value(self, data):
        _refuse_unknown_keys(data, self.fields, "Unknown field; known:")
        return super().to_internal_value(data)


class SurveyWriteSerializer(serializers.Serializer):
    """A survey's fields. `PATCH` changes those given; `POST` and `PUT` need `name` and `questions`.
    `questions`, when given, is the whole list in order: one left out is removed (not once the survey went to
    members), one without `id` is new."""

    name = TextField(max_length=editing.MAX_NAME_LENGTH, help_text="Unique, whatever the case.")
    trigger = serializers.ChoiceField(
        choices=Survey.Trigger.choices,
        required=False,
        help_text="`manual`: sent to segments (`send/`); `after_signup`: to every new member (one such survey "
        "open at a time).",
    )
    window_hours = StrictIntegerField(
        min_value=1,
        max_value=MAX_WINDOW_HOURS,
        required=False,
        help_text="Hours a member has to answer each question before the survey ends for them.",
    )
    is_active = StrictBooleanField(required=False, help_text="A closed survey is sent to no one.")
    intro = SurveyTextSerializer(required=False, help_text="Sent before the first question.")
    thanks = SurveyTextSerializer(required=False, help_text="Sent after the last answer.")
    questions = serializers.ListField(
        child=QuestionWriteSerializer(),
        min_length=1,
        max_length=MAX_QUESTIONS,
        help_text=f"1 to {MAX_QUESTIONS}, in order.",
    )
    schema_extra = {"additionalProperties": False}

    def to_internal_value(self, data):
        _refuse_unknown_keys(data, self.fields, "Unknown field; known:")
        return super().to_internal_value(data)

    def editing_data(self) -> dict:
        """The validated body as surveys.editing takes it (plain dicts and lists)."""

        def plain(value):
            if isinstance(value, dict):
                return {key: plain(item) for key, item in value.items()}
            if isinstance(value, list):
                return [plain(item) for item in value]
            return value

        return plain(dict(self.validated_data))


# --- what the API shows ---------------------------------------------------------------------------------------
@extend_schema_field(
    {"type": "object", "additionalProperties": {"type": "string"}, "example": {"en": "Health"}}
)
class TextsField(serializers.DictField):
    """A {language: text} object."""


class ChoiceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField(help_text="The number members reply with.")
    label = TextsField()
    synonyms = serializers.ListField(child=serializers.CharField())
    topic = serializers.IntegerField(allow_null=True, source="topic_id")
    tag = serializers.CharField()


class QuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Question.Kind.choices)
    text = TextsField()
    number_min = serializers.IntegerField(allow_null=True)
    number_max = serializers.IntegerField(allow_null=True)
    choices = ChoiceSerializer(many=True, source="choices.all")


class SurveySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    trigger = serializers.ChoiceField(choices=Survey.Trigger.choices)
    window_hours = serializers.IntegerField()
    is_active = serializers.BooleanField()
    intro = TextsField()
    thanks = TextsField()
    questions = QuestionSerializer(many=True, source="questions.all")
    runs = serializers.SerializerMethodField(help_text="Members it went to, by the state of their run.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(
        {
            "type": "object",
            "properties": {state: {"type": "integer"} for state in Run.State.values},
            "required": list(Run.State.values),
        }
    )
    def get_runs(self, survey: Survey) -> dict:
        return self.context["runs"][survey.pk]


class RunSerializer(PhoneMaskedForReaderMixin, serializers.Serializer):
    id = serializers.IntegerField()
    survey_id = serializers.IntegerField()
    member_id = serializers.IntegerField()
    phone = serializers.CharField(
        source="member.phone", help_text="Masked for readers who see numbers masked."
    )
    state = serializers.ChoiceField(choices=Run.State.choices)
    question = serializers.IntegerField(
        source="question_id", allow_null=True, help_text="The question waiting for an answer (active runs)."
    )
    reasked = serializers.BooleanField(
        help_text="The current question was asked again after an unclear answer."
    )
    due_at = serializers.DateTimeField(help_text="Queued: not sent before.")
    started_at = serializers.DateTimeField(allow_null=True)
    asked_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(help_text="The last time the run moved (the `updated_*` filters).")


class AnswerSerializer(PhoneMaskedForReaderMixin, serializers.Serializer):
    id = serializers.IntegerField()
    run_id = serializers.IntegerField()
    member_id = serializers.IntegerField()
    phone = serializers.CharField(
        source="member.phone", help_text="Masked for readers who see numbers masked."
    )
    question = serializers.IntegerField(source="question_id")
    question_position = serializers.IntegerField(source="question.position")
    choices = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="The positions chosen (yes/no: 1 yes, 2 no); [] for others.",
    )
    value = serializers.CharField(
        help_text='As understood: the positions ("1,3"), a number, yes/no, the text.'
    )
    raw = serializers.CharField(help_text="The member's text as it came.")
    language = serializers.CharField(help_text="The language the answer was read in.")
    created_at = serializers.DateTimeField()


class SendRequestSerializer(serializers.Serializer):
    filter = AudienceFilterSerializer(required=False, help_text="Who: the broadcasts' filter language.")
    schema_extra = {"additionalProperties": False}

    def to_internal_value(self, data):
        _refuse_unknown_keys(data, self.fields, "Unknown field; known:")
        return super().to_internal_value(data)


class SendSerializer(serializers.Serializer):
    queued = serializers.IntegerField(
        help_text="Members the survey was queued for now (never twice for one)."
    )
    filter = serializers.DictField(help_text="The filter as understood (normalised).")


# --- results ----------------------------------------------------------------------------------------------------
class ChoiceResultSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    label = serializers.CharField(help_text="In the leader's default language.")
    count = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True, help_text="Percent of those who answered the question.")


class NumberSummarySerializer(serializers.Serializer):
    count = serializers.IntegerField()
    minimum = serializers.FloatField(allow_null=True)
    maximum = serializers.FloatField(allow_null=True)
    mean = serializers.FloatField(allow_null=True)
    median = serializers.FloatField(allow_null=True)


class GroupSerializer(serializers.Serializer):
    key = serializers.CharField(
        allow_null=True, help_text='The region or language; "" unknown; null: the other regions, summed.'
    )
    answered = serializers.IntegerField()
    choices = serializers.DictField(
        child=serializers.IntegerField(), source="counts", help_text="Position → count."
    )
    mean = serializers.FloatField(allow_null=True, help_text="Number questions.")


class SampleSerializer(serializers.Serializer):
    raw = serializers.CharField()
    language = serializers.CharField()
    answered_at = serializers.DateTimeField()


class QuestionResultSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="question.pk")
    position = serializers.IntegerField(source="question.position")
    kind = serializers.ChoiceField(choices=Question.Kind.choices, source="question.kind")
    text = serializers.CharField()
    answered = serializers.IntegerField()
    choices = ChoiceResultSerializer(many=True)
    number = NumberSummarySerializer(allow_null=True)
    samples = SampleSerializer(many=True, help_text="The newest free-text answers.")
    by_region = GroupSerializer(many=True)
    by_language = GroupSerializer(many=True)


class ResultsSerializer(serializers.Serializer):
    survey = serializers.IntegerField(source="survey.pk")
    runs = serializers.DictField(child=serializers.IntegerField(), source="runs_by_state")
    answered = serializers.IntegerField(help_text="Members who answered at least one question.")
    region = serializers.CharField(allow_null=True)
    language = serializers.CharField(allow_null=True)
    questions = QuestionResultSerializer(many=True)
