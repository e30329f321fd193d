"""The API's events (docs/api.md, "Events"): create, list, read and change events through events.services
(the console's rules, the same one-line reasons), alert an audience, read and record RSVPs and check-ins,
read the counts by region. Kept beside api/views.py, whose base classes and conventions it uses."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from api import permissions as roles
from api.errors import Conflict
from api.event_serializers import (
    AlertRequestSerializer,
    CheckInSerializer,
    CheckInWriteSerializer,
    CountsSerializer,
    EventSerializer,
    EventWriteSerializer,
    RsvpSerializer,
    RsvpWriteSerializer,
)
from api.idempotency import idempotent
from api.pagination import ApiCursorPagination
from api.serializers import BroadcastSerializer, broadcast_data
from api.views import IDEMPOTENCY_PARAMETER, ApiListView, ApiView, _audience
from events import selectors
from events.models import CheckIn, Event, Rsvp, Source
from events.services import (
    EventError,
    check_in_record,
    event_alert_create,
    event_create,
    event_update,
    rsvp_record,
)
from members.audience import audience_count
from members.models import Member
from messaging.broadcasts.compose import broadcast_send
from messaging.broadcasts.selectors import broadcast_progress
from messaging.models import BroadcastError


class EventPagination(ApiCursorPagination):
    ordering = "-id"  # newest first


class RsvpPagination(ApiCursorPagination):
    ordering = "id"


class CheckInPagination(ApiCursorPagination):
    ordering = "id"


def _invalid(exc: EventError) -> serializers.ValidationError:
    return serializers.ValidationError({exc.field: [str(exc)]} if exc.field else [str(exc)])


class _EventsView(ApiView):
    """Every teammate reads events; owners and managers create, change and alert, as broadcasts."""

    @property
    def allowed_roles(self) -> frozenset[str]:
        return roles.EVENTS_READ if self.request.method in ("GET", "HEAD", "OPTIONS") else roles.EVENTS


class EventListView(_EventsView, ApiListView):
    pagination_class = EventPagination
    serializer_class = EventSerializer

    @extend_schema(
        operation_id="events_list", summary="List events, newest first", responses=EventSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(Event.objects.prefetch_related("alerts"))
        return self.get_paginated_response(EventSerializer(page, many=True).data)

    @extend_schema(
        operation_id="events_create",
        summary="Create an event",
        request=EventWriteSerializer,
        responses={201: EventSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = EventWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            event = event_create(leader=self.leader, data=serializer.validated_data, created_by=request.user)
        except EventError as exc:
            raise _invalid(exc) from None
        return Response(EventSerializer(event).data, status=status.HTTP_201_CREATED)


class EventDetailView(_EventsView):
    @extend_schema(operation_id="events_retrieve", summary="Get an event", responses=EventSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(EventSerializer(get_object_or_404(Event, pk=pk)).data)

    @extend_schema(
        operation_id="events_update",
        summary="Change some of an event's fields (a larger capacity promotes the waitlist)",
        request=EventWriteSerializer(partial=True),
        responses=EventSerializer,
    )
    def patch(self, request: Request, pk: int) -> Response:
        event = get_object_or_404(Event, pk=pk)
        serializer = EventWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            event = event_update(leader=self.leader, event=event, data=serializer.validated_data)
        except EventError as exc:
            raise _invalid(exc) from None
        return Response(EventSerializer(event).data)


class EventAlertView(_EventsView):
    @extend_schema(
        operation_id="events_alert",
        summary="Invite the members a filter selects (a broadcast, with the RSVP instruction in each one's language)",
        request=AlertRequestSerializer,
        responses={201: BroadcastSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        event = get_object_or_404(Event, pk=pk)
        serializer = AlertRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        audience = _audience(serializer.validated_data)
        leader = self.leader
        if not leader.is_active:
            raise Conflict("This leader is suspended: nothing can be sent.", code="leader_suspended")
        # As POST /broadcasts/: a token cannot give the second teammate's approval.
        count = audience_count(audience, on=timezone.now().astimezone(leader.zone).date())
        if count > leader.approval_threshold:
            raise Conflict(
                f"This alert would reach {count} members, above the approval threshold of "
                f"{leader.approval_threshold}: it needs a second teammate's approval, which the API cannot give.",
                code="approval_required",
            )
        try:
            with transaction.atomic():
                broadcast = event_alert_create(
                    leader=leader,
                    event=event,
                    filters=audience.to_dict(),
                    body=serializer.validated_data.get("body", ""),
                    created_by=request.user,
                )
                broadcast_send(leader=leader, broadcast=broadcast)
        except EventError as exc:
            raise Conflict(str(exc), code="event_closed") from None
        except BroadcastError as exc:
            raise serializers.ValidationError({"body": [str(exc)]}) from None
        return Response(
            broadcast_data(broadcast, broadcast_progress(broadcast)), status=status.HTTP_201_CREATED
        )


class EventCountsView(_EventsView):
    @extend_schema(
        operation_id="events_counts",
        summary="Invited, yes, no, waitlist, reminded and checked in: overall and by region",
        responses=CountsSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        counts = selectors.event_counts(event=get_object_or_404(Event, pk=pk))
        total = counts.pop(selectors.ALL_REGIONS)
        return Response(CountsSerializer({"total": total, "by_region": counts}).data)


_STATUS = OpenApiParameter(
    "status", {"type": "string", "enum": list(Rsvp.Status.values)}, required=False, description="Only these."
)


class EventRsvpListView(_EventsView, ApiListView):
    # Members one by one: owners and managers, as the members list.
    allowed_roles = roles.EVENTS
    pagination_class = RsvpPagination
    serializer_class = RsvpSerializer

    def get_queryset(self) -> QuerySet[Rsvp]:
        event = get_object_or_404(Event, pk=self.kwargs["pk"])
        wanted = self.request.query_params.get("status")
        if wanted is not None and wanted not in Rsvp.Status.values:
            raise serializers.ValidationError({"status": ["One of: " + ", ".join(Rsvp.Status.values) + "."]})
        return Rsvp.objects.filter(event=event, **({"status": wanted} if wanted else {})).select_related(
            "member"
        )

    @extend_schema(
        operation_id="events_rsvps_list",
        summary="An event's RSVPs",
        responses=RsvpSerializer(many=True),
        parameters=[_STATUS],
    )
    def get(self, request: Request, pk: int) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            RsvpSerializer(page, many=True, context=self.get_serializer_context()).data
        )

    @extend_schema(
        operation_id="events_rsvps_record",
        summary="Record a member's yes or no (a seat, or the waitlist when full)",
        request=RsvpWriteSerializer,
        responses={200: RsvpSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        event = get_object_or_404(Event, pk=pk)
        serializer = RsvpWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = _member(serializer.validated_data["member_id"])
        try:
            outcome = rsvp_record(
                leader=self.leader,
                event=event,
                member=member,
                answer=serializer.validated_data["answer"],
                source=Source.API,
            )
        except EventError as exc:
            raise Conflict(str(exc), code="rsvp_closed") from None
        return Response(RsvpSerializer(outcome.rsvp, context=self.get_serializer_context()).data)


class EventCheckInListView(_EventsView, ApiListView):
    # Every teammate works the door: reads check-ins and checks members in.
    allowed_roles = roles.EVENTS_READ
    pagination_class = CheckInPagination
    serializer_class = CheckInSerializer

    def get_queryset(self) -> QuerySet[CheckIn]:
        event = get_object_or_404(Event, pk=self.kwargs["pk"])
        return CheckIn.objects.filter(event=event).select_related("member", "by")

    @extend_schema(
        operation_id="events_check_ins_list",
        summary="An event's check-ins",
        responses=CheckInSerializer(many=True),
    )
    def get(self, request: Request, pk: int) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            CheckInSerializer(page, many=True, context=self.get_serializer_context()).data
        )

    @extend_schema(
        operation_id="events_check_ins_record",
        summary="Check a member in (once: a second time returns the first)",
        request=CheckInWriteSerializer,
        responses={201: CheckInSerializer, 200: CheckInSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        event = get_object_or_404(Event, pk=pk)
        serializer = CheckInWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = _member(serializer.validated_data["member_id"])
        try:
            check_in, created = check_in_record(
                event=event, member=member, source=Source.API, by=request.user
            )
        except EventError as exc:
            raise Conflict(str(exc), code="check_in_closed") from None
        return Response(
            CheckInSerializer(check_in, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


def _member(member_id: int) -> Member:
    member = Member.objects.exclude(phone__startswith=Member.ERASED_PREFIX).filter(pk=member_id).first()
    if member is None:
        raise serializers.ValidationError({"member_id": ["No member has this id."]})
    return member
