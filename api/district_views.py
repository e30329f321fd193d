"""The API's districts (`districts/`: list, create, get, change, delete) and a member's volunteering
(`members/<id>/volunteer/`: read, volunteer, stop), for owners and managers as in the console. Thin: a
serializer, one workflow of districts.services, the answer."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from api import permissions as roles
from api.errors import Conflict
from api.idempotency import idempotent
from api.views import IDEMPOTENCY_PARAMETER, ApiView, _live_member
from districts import services
from districts.models import District, Placement, Volunteer

_ID = {"min_value": 1, "max_value": 2**31 - 1}


class DistrictPlaceSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="GeoNames id")
    label = serializers.CharField(help_text="“Montréal, Quebec, Canada”")


class DistrictSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    places = serializers.SerializerMethodField()
    regions = serializers.ListField(child=serializers.CharField())
    coordinators = serializers.SerializerMethodField(help_text="Teammates' ids.")
    volunteers = serializers.SerializerMethodField(help_text="Volunteers placed in this district.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_places(self, district: District) -> list[dict]:
        return [{"id": pk, "label": label} for pk, label in district.places]

    def get_coordinators(self, district: District) -> list[int]:
        return sorted(user.pk for user in district.coordinators.all())

    def get_volunteers(self, district: District) -> int:
        return self.context.get("counts", {}).get(district.pk, 0)


class DistrictWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=District.NAME_MAX_LENGTH)
    places = serializers.ListField(
        child=serializers.IntegerField(**_ID),
        max_length=District.PLACES_MAX,
        required=False,
        default=list,
        help_text="GeoNames ids of cities and towns.",
    )
    regions = serializers.ListField(
        child=serializers.CharField(max_length=120),
        max_length=District.REGIONS_MAX,
        required=False,
        default=list,
        help_text="Region names as people write them (“Quebec”, “QC”); stored as the gazetteer's.",
    )
    coordinators = serializers.ListField(
        child=serializers.IntegerField(**_ID), max_length=100, required=False, default=list
    )


class VolunteerSerializer(serializers.Serializer):
    member = serializers.IntegerField()
    volunteer = serializers.BooleanField()
    district = serializers.CharField(allow_null=True, help_text="The district's name; null without one.")
    placement = serializers.ChoiceField(
        choices=Placement.values, allow_null=True, help_text="`several`: in several districts, so in none."
    )
    source = serializers.ChoiceField(choices=Volunteer.Source.values, allow_null=True)
    since = serializers.DateTimeField(allow_null=True)


def _districts_data(districts) -> list[dict]:
    context = {"counts": services.district_volunteer_counts()}
    return DistrictSerializer(districts, many=True, context=context).data


class _DistrictsView(ApiView):
    allowed_roles = roles.MEMBERS

    def save(self, district: District | None, data: dict) -> District:
        try:
            return services.district_save(
                district=district,
                name=data["name"],
                place_ids=data["places"],
                regions=data["regions"],
                coordinator_ids=data["coordinators"],
                countries=self.leader.allowed_countries,
            )
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None


class DistrictListView(_DistrictsView):
    @extend_schema(
        operation_id="districts_list", summary="List the districts", responses=DistrictSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        return Response(_districts_data(District.objects.prefetch_related("coordinators")))

    @extend_schema(
        operation_id="districts_create",
        summary="Create a district",
        request=DistrictWriteSerializer,
        responses={201: DistrictSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = DistrictWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        district = self.save(None, serializer.validated_data)
        return Response(_districts_data([district])[0], status=status.HTTP_201_CREATED)


class DistrictDetailView(_DistrictsView):
    @extend_schema(operation_id="districts_retrieve", summary="Get a district", responses=DistrictSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(_districts_data([get_object_or_404(District, pk=pk)])[0])

    @extend_schema(
        operation_id="districts_update",
        summary="Change some of a district's fields (its volunteers are placed again)",
        request=DistrictWriteSerializer(partial=True),
        responses=DistrictSerializer,
    )
    def patch(self, request: Request, pk: int) -> Response:
        district = get_object_or_404(District, pk=pk)
        serializer = DistrictWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = {
            "name": district.name,
            "places": district.place_ids,
            "regions": district.regions,
            "coordinators": [user.pk for user in district.coordinators.all()],
            **{key: value for key, value in serializer.validated_data.items() if key in request.data},
        }
        return Response(_districts_data([self.save(district, data)])[0])

    @extend_schema(
        operation_id="districts_delete",
        summary="Delete a district: its volunteers stay volunteers, placed again",
        responses={204: None},
    )
    def delete(self, request: Request, pk: int) -> Response:
        services.district_delete(district=get_object_or_404(District, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _volunteer_data(member_id: int) -> dict:
    volunteer = Volunteer.objects.select_related("district").filter(member_id=member_id).first()
    if volunteer is None:
        return {
            "member": member_id,
            "volunteer": False,
            "district": None,
            "placement": None,
            "source": None,
            "since": None,
        }
    return {
        "member": member_id,
        "volunteer": True,
        "district": volunteer.district.name if volunteer.has_district else None,
        "placement": volunteer.placement,
        "source": volunteer.source,
        "since": volunteer.since,
    }


class MemberVolunteerView(ApiView):
    allowed_roles = roles.MEMBERS

    @extend_schema(
        operation_id="members_volunteer_retrieve",
        summary="Whether a member volunteers, and where",
        responses=VolunteerSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(VolunteerSerializer(_volunteer_data(_live_member(pk).pk)).data)

    @extend_schema(
        operation_id="members_volunteer_create",
        summary="Make a member a volunteer: their conversation goes to their district's coordinator, and "
        "they are texted a thank-you (once)",
        request=None,
        responses={200: VolunteerSerializer, 409: None},
    )
    def put(self, request: Request, pk: int) -> Response:
        member = _live_member(pk)
        try:
            services.member_volunteer(
                leader=self.leader, member=member, source=Volunteer.Source.API, by=request.user
            )
        except services.NotReachableError as exc:
            raise Conflict(" ".join(exc.messages), code="opted_out") from None
        return Response(VolunteerSerializer(_volunteer_data(member.pk)).data)

    @extend_schema(
        operation_id="members_volunteer_delete",
        summary="A member no longer volunteers",
        responses={204: None},
    )
    def delete(self, request: Request, pk: int) -> Response:
        services.volunteer_remove(member=_live_member(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
