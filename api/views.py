"""The API's views: parse, call one service or selector, serialize. Errors are raised, and answered in the
envelope by api.errors.exception_handler."""

from __future__ import annotations

import re

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import permissions as roles
from api.authentication import ApiTokenAuthentication
from api.errors import Conflict
from api.filters import (
    COUNTRY_PATTERN,
    LANGUAGE_PATTERN,
    MAX_LIST_ITEMS,
    MAX_TEXT,
    TOPIC_PATTERN,
    FilterError,
    member_query_parse,
    members_filter,
    triage_query_parse,
)
from api.idempotency import HEADER as IDEMPOTENCY_HEADER
from api.idempotency import KEY_PATTERN as IDEMPOTENCY_KEY_PATTERN
from api.idempotency import MAX_KEY_LENGTH as IDEMPOTENCY_KEY_LENGTH
from api.idempotency import idempotent
from api.models import WebhookDelivery, WebhookEndpoint
from api.pagination import (
    BroadcastPagination,
    ConversationPagination,
    DeliveryPagination,
    MemberPagination,
    MessagePagination,
)
from api.permissions import HasRole
from api.selectors import (
    conversations_triage_filter,
    messages_filter,
    messages_with_triage,
    topics_listed,
    topics_texts_since,
)
from api.serializers import (
    BLANK_CHARACTERS,
    COUNTRY_CODE,
    NO_NULL,
    VISIBLE_TEXT,
    AudiencePreviewRequestSerializer,
    AudiencePreviewSerializer,
    BroadcastCreateSerializer,
    BroadcastSerializer,
    ConversationDetailSerializer,
    ConversationSerializer,
    LeaderSettingsSerializer,
    MemberCreateSerializer,
    MemberSerializer,
    MemberUpdateSerializer,
    MemberUpsertedSerializer,
    MessageSerializer,
    ReplySerializer,
    TopicSerializer,
    TopicWriteSerializer,
    WaitlistOpenSerializer,
    WaitlistSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointCreatedSerializer,
    WebhookEndpointCreateSerializer,
    WebhookEndpointSerializer,
    broadcast_data,
    leader_settings_data,
    waitlist_data,
)
from api.services import (
    BroadcastRefusedError,
    broadcast_api_create,
    member_update,
    member_upsert,
    webhook_endpoint_create,
    webhook_endpoint_delete,
)
from api.throttling import TokenRateThrottle
from api.webhooks import WebhookUrlError
from leaders.models import pilot_regions_clean
from leaders.services import leader_pilot_open
from members import audience as audiences
from members.audience import AudienceFilter
from members.consent import text_refusal
from members.models import REFUSED_UNREACHABLE, ConsentRecord, Member
from members.services import member_erase
from members.waitlist import waitlist_by_region
from messaging.broadcasts.compose import broadcast_cancel, broadcast_preview
from messaging.broadcasts.selectors import broadcast_progress
from messaging.models import Broadcast, BroadcastError, Conversation, Message
from messaging.services import reply_signature, text_send
from topics.models import MAX_TOPICS, Topic
from triage.topics import TopicInvalidError, TopicLimitError, topic_delete, topic_save

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    {
        "type": "string",
        "minLength": 1,
        "maxLength": IDEMPOTENCY_KEY_LENGTH,
        "pattern": IDEMPOTENCY_KEY_PATTERN,
    },
    OpenApiParameter.HEADER,
    required=False,
    description="Retrying with the same key returns the first answer instead of acting twice (24 hours). "
    "1 to 255 printable ASCII characters (a UUID is ideal).",
)


def _list_parameter(
    name: str, description: str, item: dict | None = None, *, explode=False
) -> OpenApiParameter:
    """A list in the query string: comma-separated (`explode=False`, so no value holds a comma), or the
    parameter repeated."""
    no = r"\x00" if explode else r"\x00,"
    item = item or {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_TEXT,
        "pattern": rf"^[^{no}]*[^{no}{BLANK_CHARACTERS}][^{no}]*$",
    }
    return OpenApiParameter(
        name,
        {"type": "array", "items": item, "minItems": 1, "maxItems": MAX_LIST_ITEMS},
        OpenApiParameter.QUERY,
        required=False,
        style="form",
        explode=explode,
        description=description
        + (" Repeat the parameter" if explode else " Comma-separated")
        + "; matches any of them.",
    )


def _moment_parameter(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]},
        required=False,
        description=description + " A date is midnight UTC; a time without a zone is UTC.",
    )


_AGE = {"type": "integer", "minimum": 0, "maximum": audiences.MAX_AGE}
_PLACE_ID = {"type": "integer", "minimum": 0, "maximum": audiences.MAX_PLACE_ID}
# The members listing's filters: the broadcasts' filter language (docs/broadcasts.md) in a query string.
MEMBER_FILTER_PARAMETERS = [
    _list_parameter("place_ids", "GeoNames ids of members' cities.", _PLACE_ID),
    _list_parameter("cities", 'City names ("Montréal", "Laval, CA").', explode=True),
    _list_parameter("regions", "Region names in any country, any case or accents (Quebec, Tokyo, jalisco)."),
    _list_parameter(
        "countries",
        "ISO country codes (US, CA).",
        {"type": "string", "pattern": COUNTRY_CODE.regex.pattern, "minLength": 2, "maxLength": 2},
    ),
    OpenApiParameter(
        "near",
        {
            "type": "object",
            "properties": {
                "city": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_TEXT,
                    "pattern": VISIBLE_TEXT.regex.pattern,
                },
                "place_id": _PLACE_ID,
                "lat": {"type": "number", "minimum": -90, "maximum": 90},
                "lon": {"type": "number", "minimum": -180, "maximum": 180},
                "km": {
                    "type": "number",
                    "exclusiveMinimum": True,
                    "minimum": 0,
                    "maximum": audiences.MAX_RADIUS_KM,
                },
            },
            "required": ["km"],
            "additionalProperties": False,
            "anyOf": [{"required": ["city"]}, {"required": ["place_id"]}, {"required": ["lat", "lon"]}],
        },
        OpenApiParameter.QUERY,
        required=False,
        style="deepObject",
        explode=True,
        description="Members within `km` of a place: `near[km]=30&near[city]=Ottawa`, or `near[place_id]=…`, "
        "or `near[lat]=…&near[lon]=…`.",
    ),
    _list_parameter(
        "genders",
        "female, male, non_binary, another, undisclosed.",
        {"type": "string", "enum": Member.Gender.values},
    ),
    _list_parameter("languages", "Language codes (en, fr, es, de, ar)."),
    _list_parameter("tags_any", "Members with any of these tags."),
    _list_parameter("tags_all", "Members with all of these tags."),
    _list_parameter("tags", "The earlier name of `tags_any`, still accepted."),
    OpenApiParameter("age_min", _AGE, required=False, description="Aged at least this many whole years."),
    OpenApiParameter(
        "age_max", _AGE, required=False, description="Aged at most this many; not below `age_min`."
    ),
    _moment_parameter("joined_after", "Joined at or after."),
    _moment_parameter("joined_before", "Joined before."),
    OpenApiParameter("status", {"type": "string", "enum": Member.Status.values}, required=False),
    OpenApiParameter(
        "q",
        {"type": "string", "maxLength": MAX_TEXT, "pattern": NO_NULL},
        required=False,
        description="A phone (E.164, exact) or part of a name or email. The platform's access logs mask "
        "numbers and emails in query strings; a proxy in front of it keeps its own logs.",
    ),
]


ASSIGNED_ID = "[0-9]{1,18}"  # a teammate's id: ASCII digits, within PostgreSQL's bigint

_TOPIC_PARAMETER = OpenApiParameter(
    "topic",
    {"type": "string", "pattern": TOPIC_PATTERN},
    required=False,
    description="A topic's id, or `unsorted`: triaged texts that got no topic. An id that is none of the "
    "leader's topics matches nothing.",
)
_REGION_DESCRIPTION = (
    "A first-level region's name as `place.region` shows it (Jalisco, Quebec), in any case or accents "
    "(`jalisco`, `Québec`, `QC`)."
)
_TRIAGE_FILTERS = [
    _TOPIC_PARAMETER,
    OpenApiParameter(
        "language",
        {"type": "string", "pattern": LANGUAGE_PATTERN},
        required=False,
        description="The language triage detected: an ISO 639-1 code (en, fr, es, de, ar).",
    ),
    OpenApiParameter(
        "region",
        {"type": "string", "minLength": 1, "maxLength": MAX_TEXT, "pattern": VISIBLE_TEXT.regex.pattern},
        required=False,
        description=_REGION_DESCRIPTION,
    ),
    OpenApiParameter(
        "country",
        {"type": "string", "pattern": COUNTRY_PATTERN},
        required=False,
        description="The sender's country, two letters (MX, CA).",
    ),
]
# Each listing's filters on the triage of texts (triage.Label): a message by its own label, a conversation
# when one of its texts' labels matches.
TRIAGE_PARAMETERS = {
    "message": [
        OpenApiParameter(
            "direction",
            {"type": "string", "enum": ["inbound", "outbound", "in", "out"]},
            required=False,
            description="`inbound` (`in`): fans' texts; `outbound` (`out`): the team's replies and "
            "automatic answers.",
        ),
        *_TRIAGE_FILTERS,
        _moment_parameter("received_after", "Stored at or after."),
        _moment_parameter("received_before", "Stored before."),
    ],
    "conversation": _TRIAGE_FILTERS,
}
MESSAGE_TRIAGE_KEYS = (
    "direction",
    "topic",
    "language",
    "region",
    "country",
    "received_after",
    "received_before",
)
CONVERSATION_TRIAGE_KEYS = ("topic", "language", "region", "country", "overdue")


class ApiView(APIView):
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [HasRole]
    throttle_classes = [TokenRateThrottle]
    allowed_roles: frozenset[str] = frozenset()

    @property
    def leader(self):
        return self.request.tenant

    def get_serializer_context(self) -> dict:
        # The reader: serializers show fans' numbers as this teammate may read them.
        return {"request": self.request, "view": self}


class ApiListView(ApiView, generics.GenericAPIView):
    pass


# --- members --------------------------------------------------------------------------------------------
class MemberListView(ApiListView):
    allowed_roles = roles.MEMBERS
    pagination_class = MemberPagination
    serializer_class = MemberSerializer

    def get_queryset(self) -> QuerySet[Member]:
        try:
            query = member_query_parse(self.request.query_params)
            return members_filter(query, Member.objects.exclude(phone__startswith=Member.ERASED_PREFIX))
        except FilterError as exc:
            raise serializers.ValidationError({k: [v] for k, v in exc.fields.items()}) from None

    @extend_schema(
        operation_id="members_list",
        summary="List members",
        responses=MemberSerializer(many=True),
        parameters=MEMBER_FILTER_PARAMETERS,
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(MemberSerializer(page, many=True).data)

    @extend_schema(
        operation_id="members_create",
        summary="Create a member, or update the member with this phone",
        request=MemberCreateSerializer,
        responses={201: MemberUpsertedSerializer, 200: MemberUpsertedSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = MemberCreateSerializer(data=request.data, context={"leader": self.leader})
        serializer.is_valid(raise_exception=True)
        upserted = member_upsert(leader=self.leader, data=serializer.validated_data, token=request.auth)
        return Response(
            MemberUpsertedSerializer(
                upserted.member, context={"kept_opted_out": upserted.kept_opted_out}
            ).data,
            status=status.HTTP_201_CREATED if upserted.created else status.HTTP_200_OK,
        )


def _live_member(pk: int) -> Member:
    # Erased members stay as anonymous rows for counts; to the API they are gone.
    return get_object_or_404(Member.objects.exclude(phone__startswith=Member.ERASED_PREFIX), pk=pk)


class MemberDetailView(ApiView):
    allowed_roles = roles.MEMBERS

    @extend_schema(operation_id="members_retrieve", summary="Get a member", responses=MemberSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(MemberSerializer(_live_member(pk)).data)

    @extend_schema(
        operation_id="members_update",
        summary="Change a member's fields and tags",
        request=MemberUpdateSerializer,
        responses=MemberSerializer,
    )
    def patch(self, request: Request, pk: int) -> Response:
        member = _live_member(pk)
        serializer = MemberUpdateSerializer(data=request.data, context={"leader": self.leader})
        serializer.is_valid(raise_exception=True)
        member = member_update(member=member, data=serializer.validated_data, token=request.auth)
        return Response(MemberSerializer(member).data)

    @extend_schema(
        operation_id="members_erase", summary="Erase a member's personal data", responses={204: None}
    )
    def delete(self, request: Request, pk: int) -> Response:
        member_erase(
            member=_live_member(pk),
            source=ConsentRecord.Source.API,
            detail=f"erased through the API, token {request.auth.display_prefix}…",
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- conversations --------------------------------------------------------------------------------------
class ConversationListView(ApiListView):
    allowed_roles = roles.CONVERSATIONS
    pagination_class = ConversationPagination
    serializer_class = ConversationSerializer

    def get_queryset(self) -> QuerySet[Conversation]:
        params = self.request.query_params
        errors: dict[str, list[str]] = {}
        qs = Conversation.objects.select_related("assigned_to")
        conversation_status = params.get("status")
        if conversation_status is not None:
            if conversation_status not in Conversation.Status.values:
                errors["status"] = ["One of: " + ", ".join(Conversation.Status.values) + "."]
            else:
                qs = qs.filter(status=conversation_status)
        unread = params.get("unread")
        if unread is not None:
            if unread not in ("true", "false"):
                errors["unread"] = ["true or false."]
            else:
                qs = qs.filter(unread_count__gt=0) if unread == "true" else qs.filter(unread_count=0)
        assigned = params.get("assigned")
        if assigned is not None:
            if assigned == "me":
                qs = qs.filter(assigned_to=self.request.user)
            elif assigned == "none":
                qs = qs.filter(assigned_to__isnull=True)
            elif re.fullmatch(ASSIGNED_ID, assigned):
                qs = qs.filter(assigned_to_id=int(assigned))
            else:
                errors["assigned"] = ["me, none, or a teammate's id."]
        try:
            qs = conversations_triage_filter(qs, triage_query_parse(params, keys=CONVERSATION_TRIAGE_KEYS))
        except FilterError as exc:
            errors.update({k: [v] for k, v in exc.fields.items()})
        if errors:
            raise serializers.ValidationError(errors)
        return qs

    @extend_schema(
        operation_id="conversations_list",
        summary="List conversations, latest first",
        description="`topic`, `language`, `region` and `country` select the conversations one of whose "
        "triaged texts matches them all.",
        responses=ConversationSerializer(many=True),
        parameters=[
            OpenApiParameter(
                "status", {"type": "string", "enum": Conversation.Status.values}, required=False
            ),
            OpenApiParameter("unread", {"type": "string", "enum": ["true", "false"]}, required=False),
            OpenApiParameter(
                "assigned",
                {"type": "string", "pattern": f"^(me|none|{ASSIGNED_ID})$"},
                required=False,
                description="`me`, `none`, or a teammate's id.",
            ),
            *TRIAGE_PARAMETERS["conversation"],
            OpenApiParameter(
                "overdue",
                {"type": "string", "enum": ["true", "false"]},
                required=False,
                description="`true`: a reply was due (the routing rule's response-time target) and is late; "
                "`false`: the others.",
            ),
        ],
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            ConversationSerializer(page, many=True, context=self.get_serializer_context()).data
        )


class ConversationDetailView(ApiView):
    allowed_roles = roles.CONVERSATIONS

    @extend_schema(
        operation_id="conversations_retrieve",
        summary="Get a conversation with its latest messages",
        responses=ConversationDetailSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        conversation = get_object_or_404(Conversation.objects.select_related("assigned_to"), pk=pk)
        return Response(
            ConversationDetailSerializer(conversation, context=self.get_serializer_context()).data
        )


class ConversationMessagesView(ApiListView):
    allowed_roles = roles.CONVERSATIONS
    pagination_class = MessagePagination
    serializer_class = MessageSerializer

    @extend_schema(
        operation_id="conversations_messages_list",
        summary="List a conversation's messages, newest first",
        responses=MessageSerializer(many=True),
    )
    def get(self, request: Request, pk: int) -> Response:
        conversation = get_object_or_404(Conversation, pk=pk)
        page = self.paginate_queryset(messages_with_triage().filter(conversation=conversation))
        return self.get_paginated_response(
            MessageSerializer(page, many=True, context=self.get_serializer_context()).data
        )

    @extend_schema(
        operation_id="conversations_reply",
        summary="Reply to the fan, one to one",
        request=ReplySerializer,
        responses={201: MessageSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        conversation = get_object_or_404(Conversation, pk=pk)
        serializer = ReplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        body = serializer.validated_data["body"]
        # Signed by the token's teammate when the leader signs replies; the limit is on what the fan gets.
        if len(body + reply_signature(leader=self.leader, user=request.user)) > ReplySerializer.MAX_SIGNED:
            raise serializers.ValidationError(
                {"body": [f"With your signature the reply is over {ReplySerializer.MAX_SIGNED} characters."]}
            )
        member = conversation.member or Member.objects.filter(phone=conversation.phone).first()
        refusal = text_refusal(phone=conversation.phone, member=member)
        if refusal == REFUSED_UNREACHABLE:
            raise Conflict("The carrier says this number cannot receive texts.", code="number_unreachable")
        if refusal:  # the member, or the phone before it joined, texted STOP
            raise Conflict("This member opted out: nothing can be sent to them.", code="member_opted_out")
        if not self.leader.is_active:
            raise Conflict("This leader is suspended: nothing can be sent.", code="leader_suspended")
        message = text_send(
            leader=self.leader,
            phone=conversation.phone,
            body=body,
            kind=Message.Kind.CONVERSATION,
            member=member,
            conversation=conversation,
            sent_by=request.user,
        )
        return Response(
            MessageSerializer(message, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


# --- messages -------------------------------------------------------------------------------------------
class MessageListView(ApiListView):
    allowed_roles = roles.CONVERSATIONS
    pagination_class = MessagePagination
    serializer_class = MessageSerializer

    def get_queryset(self) -> QuerySet[Message]:
        try:
            return messages_filter(triage_query_parse(self.request.query_params, keys=MESSAGE_TRIAGE_KEYS))
        except FilterError as exc:
            raise serializers.ValidationError({k: [v] for k, v in exc.fields.items()}) from None

    @extend_schema(
        operation_id="messages_list",
        summary="List texts, newest first, with their triage",
        description="Every filter combines with AND. `topic`, `language`, `region` and `country` match a "
        "fan's text by its triage: a text not triaged yet matches none of them.",
        responses=MessageSerializer(many=True),
        parameters=TRIAGE_PARAMETERS["message"],
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            MessageSerializer(page, many=True, context=self.get_serializer_context()).data
        )


class MessageDetailView(ApiView):
    allowed_roles = roles.CONVERSATIONS

    @extend_schema(
        operation_id="messages_retrieve", summary="Get a text with its triage", responses=MessageSerializer
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(
            MessageSerializer(
                get_object_or_404(messages_with_triage(), pk=pk), context=self.get_serializer_context()
            ).data
        )


# --- topics ---------------------------------------------------------------------------------------------
class _TopicsView(ApiView):
    """Every teammate reads the topics (the conversation and message filters name them); owners and
    managers change them, as in the console."""

    @property
    def allowed_roles(self) -> frozenset[str]:
        return roles.TOPICS_READ if self.request.method in ("GET", "HEAD", "OPTIONS") else roles.TOPICS

    def topic_data(self, topics: list[Topic]) -> list[dict] | dict:
        context = {"texts_7d": topics_texts_since([topic.pk for topic in topics], days=7)}
        return TopicSerializer(topics, many=True, context=context).data

    def save(self, topic: Topic, data: dict) -> Topic:
        try:
            return topic_save(topic=topic, data=data)
        except TopicLimitError as exc:
            raise Conflict(str(exc), code="too_many_topics") from None
        except TopicInvalidError as exc:
            raise serializers.ValidationError(exc.fields) from None


class TopicListView(_TopicsView):
    @extend_schema(
        operation_id="topics_list",
        summary="List the leader's topics, in their order",
        responses=TopicSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        return Response(self.topic_data(list(topics_listed())))

    @extend_schema(
        operation_id="topics_create",
        summary=f"Create a topic (at most {MAX_TOPICS})",
        request=TopicWriteSerializer,
        responses={201: TopicSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = TopicWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        topic = self.save(Topic(), serializer.full_data())
        return Response(self.topic_data([topic])[0], status=status.HTTP_201_CREATED)


class TopicDetailView(_TopicsView):
    @extend_schema(operation_id="topics_retrieve", summary="Get a topic", responses=TopicSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(self.topic_data([get_object_or_404(Topic, pk=pk)])[0])

    @extend_schema(
        operation_id="topics_update",
        summary="Change some of a topic's fields",
        request=TopicWriteSerializer(partial=True),
        responses=TopicSerializer,
    )
    def patch(self, request: Request, pk: int) -> Response:
        topic = get_object_or_404(Topic, pk=pk)
        serializer = TopicWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return Response(self.topic_data([self.save(topic, serializer.validated_data)])[0])

    @extend_schema(
        operation_id="topics_replace",
        summary="Replace a topic's fields (those left out are emptied)",
        request=TopicWriteSerializer,
        responses=TopicSerializer,
    )
    def put(self, request: Request, pk: int) -> Response:
        topic = get_object_or_404(Topic, pk=pk)
        serializer = TopicWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(self.topic_data([self.save(topic, serializer.full_data())])[0])

    @extend_schema(
        operation_id="topics_delete",
        summary="Delete a topic: its texts stay, unsorted",
        responses={204: None},
    )
    def delete(self, request: Request, pk: int) -> Response:
        topic_delete(topic=get_object_or_404(Topic, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- settings -------------------------------------------------------------------------------------------
class SettingsView(ApiView):
    allowed_roles = roles.SETTINGS

    @extend_schema(
        operation_id="settings_retrieve", summary="The leader's settings", responses=LeaderSettingsSerializer
    )
    def get(self, request: Request) -> Response:
        return Response(LeaderSettingsSerializer(leader_settings_data(self.leader)).data)


# --- the pilot's waitlist ------------------------------------------------------------------------------
class WaitlistView(ApiView):
    allowed_roles = roles.SETTINGS

    @extend_schema(
        operation_id="waitlist_retrieve",
        summary="The pilot and its waitlist, counted by region",
        responses=WaitlistSerializer,
    )
    def get(self, request: Request) -> Response:
        return Response(WaitlistSerializer(waitlist_data(self.leader, waitlist_by_region())).data)


class WaitlistOpenView(ApiView):
    allowed_roles = roles.SETTINGS

    @extend_schema(
        operation_id="waitlist_open",
        summary="Open regions (or everywhere): their waitlisted phones get a signup link, paced, once each",
        request=WaitlistOpenSerializer,
        responses=WaitlistSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = WaitlistOpenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            # Names no region has are refused whatever else is asked, before anything opens.
            pilot_regions_clean(data["regions"], countries=self.leader.allowed_countries)
            opened = leader_pilot_open(
                leader=self.leader, regions=None if data["everywhere"] else data["regions"]
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"regions": exc.messages}) from None
        body = waitlist_data(self.leader, waitlist_by_region())
        return Response(WaitlistSerializer({**body, "opened": opened}).data)


# --- webhooks -------------------------------------------------------------------------------------------
class WebhookEndpointListView(ApiView):
    allowed_roles = roles.WEBHOOKS

    @extend_schema(
        operation_id="webhooks_list",
        summary="List webhook endpoints",
        responses=WebhookEndpointSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        endpoints = WebhookEndpoint.objects.filter(is_active=True)[:100]
        return Response(WebhookEndpointSerializer(endpoints, many=True).data)

    @extend_schema(
        operation_id="webhooks_create",
        summary="Register a webhook endpoint",
        request=WebhookEndpointCreateSerializer,
        responses={201: WebhookEndpointCreatedSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = WebhookEndpointCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if WebhookEndpoint.objects.filter(is_active=True).count() >= 100:
            raise Conflict("A leader has at most 100 webhook endpoints.", code="too_many_endpoints")
        try:
            endpoint = webhook_endpoint_create(
                url=data["url"],
                events=data["events"],
                description=data.get("description", ""),
                created_by=request.user,
            )
        except WebhookUrlError as exc:
            raise serializers.ValidationError({"url": [str(exc)]}) from None
        return Response(WebhookEndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)


def _live_endpoint(pk: int) -> WebhookEndpoint:
    return get_object_or_404(WebhookEndpoint, pk=pk, is_active=True)


class WebhookEndpointDetailView(ApiView):
    allowed_roles = roles.WEBHOOKS

    @extend_schema(
        operation_id="webhooks_retrieve",
        summary="Get a webhook endpoint",
        responses=WebhookEndpointSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(WebhookEndpointSerializer(_live_endpoint(pk)).data)

    @extend_schema(
        operation_id="webhooks_delete", summary="Stop sending to a webhook endpoint", responses={204: None}
    )
    def delete(self, request: Request, pk: int) -> Response:
        webhook_endpoint_delete(endpoint=_live_endpoint(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryListView(ApiListView):
    allowed_roles = roles.WEBHOOKS
    pagination_class = DeliveryPagination
    serializer_class = WebhookDeliverySerializer

    @extend_schema(
        operation_id="webhooks_deliveries_list",
        summary="A webhook endpoint's deliveries and their attempts, newest first",
        responses=WebhookDeliverySerializer(many=True),
    )
    def get(self, request: Request, pk: int) -> Response:
        endpoint = _live_endpoint(pk)
        deliveries = WebhookDelivery.objects.filter(endpoint=endpoint).select_related("event")
        page = self.paginate_queryset(deliveries.prefetch_related("attempt_log"))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


# --- audience and broadcasts ----------------------------------------------------------------------------
def _audience(validated: dict) -> AudienceFilter:
    return (validated.get("filter") or {}).get("audience") or AudienceFilter()


class AudiencePreviewView(ApiView):
    allowed_roles = roles.BROADCASTS

    @extend_schema(
        operation_id="audience_preview",
        summary="Count the members a filter selects, and what a body would cost to send them",
        request=AudiencePreviewRequestSerializer,
        responses=AudiencePreviewSerializer,
    )
    def post(self, request: Request) -> Response:
        serializer = AudiencePreviewRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        body = serializer.validated_data.get("body") or ""
        preview = broadcast_preview(
            leader=self.leader, filters=_audience(serializer.validated_data).to_dict(), body=body
        )
        cost = None
        if body:
            cost = {
                "recipients": preview["count"],
                "encoding": preview["encoding"],
                "segments_per_message": preview["segments_per_message"],
                "total_segments": preview["total_segments"],
                "segments_per_second": preview["segments_per_second"],
                "estimated_seconds": preview["estimated_seconds"],
                "gsm7_suggestions": preview["gsm7_suggestions"],
            }
        data = {
            "count": preview["count"],
            "filter": preview["filters"],
            "approval_threshold": self.leader.approval_threshold,
            "approval_required": preview["count"] > self.leader.approval_threshold,
            "cost": cost,
        }
        return Response(AudiencePreviewSerializer(data).data)


def _broadcast_error_field(message: str) -> str | None:
    """Which request field one of the engine's one-line BroadcastErrors is about."""
    if "message" in message:
        return "body"
    if "scheduled" in message:
        return "send_at"
    return None


class BroadcastListView(ApiListView):
    allowed_roles = roles.BROADCASTS
    pagination_class = BroadcastPagination
    serializer_class = BroadcastSerializer

    @extend_schema(
        operation_id="broadcasts_list",
        summary="List broadcasts, newest first",
        responses=BroadcastSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(Broadcast.objects.all())
        return self.get_paginated_response([broadcast_data(broadcast) for broadcast in page])

    @extend_schema(
        operation_id="broadcasts_create",
        summary="Send a text to the members a filter selects, now or at `send_at`",
        request=BroadcastCreateSerializer,
        responses={201: BroadcastSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = BroadcastCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            broadcast = broadcast_api_create(
                leader=self.leader,
                body=data["body"],
                audience=_audience(data),
                send_at=data.get("send_at"),
                ignore_quiet_hours=data.get("ignore_quiet_hours", False),
                created_by=request.user,
            )
        except BroadcastRefusedError as exc:
            raise Conflict(str(exc), code=exc.code) from None
        except BroadcastError as exc:
            field = _broadcast_error_field(str(exc))
            raise serializers.ValidationError({field: [str(exc)]} if field else [str(exc)]) from None
        return Response(
            broadcast_data(broadcast, broadcast_progress(broadcast)), status=status.HTTP_201_CREATED
        )


class BroadcastDetailView(ApiView):
    allowed_roles = roles.BROADCASTS

    @extend_schema(
        operation_id="broadcasts_retrieve",
        summary="Get a broadcast and its live counts",
        responses=BroadcastSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        broadcast = get_object_or_404(Broadcast, pk=pk)
        return Response(broadcast_data(broadcast, broadcast_progress(broadcast)))


class BroadcastCancelView(ApiView):
    allowed_roles = roles.BROADCASTS

    @extend_schema(
        operation_id="broadcasts_cancel",
        summary="Stop a scheduled or sending broadcast: what has not gone out stays unsent",
        request=None,
        responses=BroadcastSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        broadcast = get_object_or_404(Broadcast, pk=pk)
        try:
            broadcast_cancel(broadcast=broadcast)
        except BroadcastError as exc:
            raise Conflict(str(exc), code="not_cancellable") from None
        return Response(broadcast_data(broadcast, broadcast_progress(broadcast)))


# --- browsable docs -------------------------------------------------------------------------------------
class _AnonymousPageMixin:
    """The docs pages need no token. Their HTML goes through the site's template context processors, which
    expect Django's anonymous user, not DRF's `None` (UNAUTHENTICATED_USER)."""

    def perform_authentication(self, request: Request) -> None:
        request.user = AnonymousUser()


class DocsView(_AnonymousPageMixin, SpectacularSwaggerView):
    pass


class RedocView(_AnonymousPageMixin, SpectacularRedocView):
    pass
