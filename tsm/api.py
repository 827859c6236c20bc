"""TSM API: meetings (read, and booking: propose, confirm, cancel, hold), their pack, and actions
(list, create, update), scoped through tsm.selectors; changes go through tsm.services.

Outside the caller's scope is a 404. A refusal because of who is acting (``NotPermitted``) is a
403, any other refusal (the state, the date) a 400; both say in ``detail`` who may act.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from pupils.models import Pupil
from tsm import selectors, services
from tsm.models import Action, ActionStatus, TargetingSupportMeeting


class MeetingSerializer(serializers.ModelSerializer):
    school_urn = serializers.CharField(source="school.urn", read_only=True)
    school_name = serializers.CharField(source="school.name", read_only=True)
    term = serializers.CharField(source="round.term", read_only=True)
    theme = serializers.CharField(source="round.theme", read_only=True)
    link_officer = serializers.StringRelatedField()
    proposed_by = serializers.StringRelatedField()
    confirmed_by = serializers.StringRelatedField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = TargetingSupportMeeting
        fields = ["id", "school_urn", "school_name", "term", "theme", "status", "proposed_start",
                  "duration_minutes", "location", "link_officer", "proposed_by", "confirmed_by",
                  "confirmed_at", "held_at", "cancellation_reason", "overdue"]
        read_only_fields = fields

    def get_overdue(self, meeting) -> bool:
        return meeting.is_overdue()


class RefusalSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What is wrong and who may act instead")


class ProposeSerializer(serializers.Serializer):
    start = serializers.DateTimeField(
        help_text="ISO 8601; without an offset it is read as UK time. In the term (up to a week "
                  "after it ends) and in the future.")
    duration_minutes = serializers.IntegerField(min_value=30, max_value=120, required=False,
                                                help_text="30 to 120; the current length if "
                                                          "left out")
    location = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                     help_text="A room, an address or 'Microsoft Teams'")


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why the meeting is cancelled")


def _refusals(success=MeetingSerializer) -> dict:
    return {
        200: success,
        400: OpenApiResponse(RefusalSerializer, description="Refused in this state, or the "
                                                            "date is not allowed"),
        403: OpenApiResponse(RefusalSerializer, description="Your role cannot make this change "
                                                            "(detail says who can)"),
        404: OpenApiResponse(description="No such meeting in your scope"),
    }


class RefusalsAsResponses:
    """NotPermitted becomes a 403 (the project's handler makes other ApplicationErrors 400)."""

    def handle_exception(self, exc):
        if isinstance(exc, services.NotPermitted):
            return Response({"detail": exc.message, **exc.extra},
                            status=status.HTTP_403_FORBIDDEN)
        return super().handle_exception(exc)


class MeetingViewSet(RefusalsAsResponses, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     viewsets.GenericViewSet):
    """Meetings the caller may see: a link officer's schools, a school lead's own, all for
    managers. Filter with ?status= and ?round__term=.

    Booking (POST): ``propose`` (the link officer proposes or re-proposes a date; a school lead
    proposes another), ``confirm`` (whoever did not propose), ``cancel`` (the link officer or a
    manager, with a reason), ``hold`` (the link officer; freezes the pack).
    """

    serializer_class = MeetingSerializer
    filterset_fields = ["status", "round__term"]

    def _done(self, meeting):
        return Response(MeetingSerializer(selectors.meeting_get(user=self.request.user,
                                                                pk=meeting.pk)).data)

    @extend_schema(request=ProposeSerializer, responses=_refusals(),
                   description="Propose a date. The link officer proposes (or re-proposes, which "
                               "reschedules a proposed, confirmed or cancelled meeting); a school "
                               "attendance lead proposes another date instead of the officer's. "
                               "Either clears any confirmation and emails the other side.")
    @action(detail=True, methods=["post"])
    def propose(self, request, pk=None):
        meeting = self.get_object()
        body = ProposeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        kwargs = {"meeting": meeting, "start": data["start"], "user": request.user,
                  "duration_minutes": data.get("duration_minutes")}
        if services._is_school_lead(meeting, request.user) and not services._is_link_officer(
                meeting, request.user):
            meeting = services.meeting_propose_another(**kwargs, location=data.get("location"))
        else:
            meeting = services.meeting_propose(**kwargs, location=data.get("location", ""))
        return self._done(meeting)

    @extend_schema(request=None, responses=_refusals(),
                   description="Confirm the proposed date: a school attendance lead confirms the "
                               "link officer's date, the link officer a date the school "
                               "proposed. Both sides get an email with the .ics invitation.")
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return self._done(services.meeting_confirm(meeting=self.get_object(), user=request.user))

    @extend_schema(request=CancelSerializer, responses=_refusals(),
                   description="Cancel a meeting not yet held (the link officer or a manager), "
                               "with a reason. It can be booked again with propose.")
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        meeting = self.get_object()
        body = CancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._done(services.meeting_cancel(meeting=meeting, user=request.user,
                                                  reason=body.validated_data["reason"]))

    @extend_schema(request=None, responses=_refusals(),
                   description="Mark the confirmed meeting as held (the link officer): the pack "
                               "is frozen as it is now and live recording opens.")
    @action(detail=True, methods=["post"])
    def hold(self, request, pk=None):
        return self._done(services.meeting_hold(meeting=self.get_object(), user=request.user))

    def get_queryset(self):
        return selectors.meeting_list(user=self.request.user).order_by(
            "-round__term__start_date", "school__name", "pk")

    @extend_schema(responses=OpenApiTypes.OBJECT,
                   description="The meeting pack: band counts and % for the school, its last "
                               "TSM, its phase and the city; cohorts; pupils to discuss; last "
                               "meeting's actions; open alerts. A held meeting returns the "
                               "snapshot frozen when it was held. figures_key names the "
                               "figures: the same key, the same pupil sections.")
    @action(detail=True, methods=["get"])
    def pack(self, request, pk=None):
        return Response(selectors.meeting_pack(meeting=self.get_object()))


class ActionSerializer(serializers.ModelSerializer):
    meeting = serializers.PrimaryKeyRelatedField(queryset=TargetingSupportMeeting.objects.none())
    owner = serializers.PrimaryKeyRelatedField(
        queryset=Action._meta.get_field("owner").related_model.objects.filter(is_active=True))
    owner_name = serializers.CharField(source="owner.full_name", read_only=True)
    pupil_upn = serializers.CharField(source="pupil.upn", required=False, allow_null=True,
                                      allow_blank=True, default=None)
    school_urn = serializers.CharField(source="meeting.school.urn", read_only=True)
    carried_from = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Action
        fields = ["id", "meeting", "school_urn", "description", "owner", "owner_name",
                  "due_date", "pupil_upn", "status", "carried_from", "completed_at",
                  "created_at"]
        read_only_fields = ["id", "school_urn", "owner_name", "carried_from", "completed_at",
                            "created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["meeting"].queryset = selectors.meeting_list(user=request.user)
        if self.instance is not None:
            self.fields["meeting"].read_only = True

    def validate_status(self, value):
        if value == ActionStatus.CARRIED:
            raise serializers.ValidationError("Actions are carried forward by opening a round.")
        return value


def _pupil(upn):
    if not upn:
        return None
    return get_object_or_404(Pupil, upn=upn.strip().upper())


class ActionViewSet(RefusalsAsResponses, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                    mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Actions of meetings the caller may see (and their own). Create and update call the
    services, which check who may record and own actions."""

    serializer_class = ActionSerializer
    filterset_fields = ["status", "meeting"]

    def get_queryset(self):
        return selectors.action_list(user=self.request.user).order_by("due_date", "pk")

    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        created = services.action_create(
            meeting=data["meeting"], description=data["description"], owner=data["owner"],
            due_date=data["due_date"], pupil=_pupil((data.get("pupil") or {}).get("upn")),
            user=request.user,
        )
        if data.get("status") and data["status"] != ActionStatus.OPEN:
            created = services.action_set_status(action=created, status=data["status"],
                                                 user=request.user)
        return Response(self.get_serializer(created).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        current = self.get_object()
        body = self.get_serializer(current, data=request.data, partial=partial)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        pupil_given = "pupil" in data
        upn = (data.get("pupil") or {}).get("upn") if pupil_given else None
        updated = services.action_update(
            action=current, user=request.user, description=data.get("description"),
            owner=data.get("owner"), due_date=data.get("due_date"),
            pupil=_pupil(upn), clear_pupil=pupil_given and not upn,
        )
        if "status" in data and data["status"] != updated.status:
            updated = services.action_set_status(action=updated, status=data["status"],
                                                 user=request.user)
        return Response(self.get_serializer(updated).data)
