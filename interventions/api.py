"""Casework API: cases, interventions and chronology entries (list, read, create), and the
legal route's decisions on a case (the social worker agrees or declines; a prosecution starts).

Scoped by the same selectors as the pages; changes go through the services, so the rules (and
the ApplicationError → 400 messages) are the same. A case the caller may not add to is a 404,
exactly as on the pages. The legal-route actions differ in one way: on a case the caller may
see but whose decision is not theirs to make (wrong role), the answer is 403; a case they may
not see is still a 404.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from interventions import selectors, services
from interventions.gates import allocated_social_workers
from interventions.models import (
    Case,
    ChronologyEntry,
    Intervention,
    InterventionType,
    LegalDecision,
    SocialWorkerDecision,
    Stage,
)
from schools.models import School


class CaseSerializer(serializers.ModelSerializer):
    pupil_upn = serializers.CharField(source="pupil.upn", read_only=True)
    pupil_name = serializers.CharField(source="pupil.full_name", read_only=True)
    owner = serializers.StringRelatedField()
    opened_by = serializers.StringRelatedField()

    class Meta:
        model = Case
        fields = ["id", "pupil_upn", "pupil_name", "stage", "status", "on_hold_review_date",
                  "owner", "reason", "opened_by", "opened_at", "closed_at", "family"]
        read_only_fields = fields


class CaseCreateSerializer(serializers.Serializer):
    pupil_upn = serializers.CharField(max_length=13)
    reason = serializers.CharField(max_length=4000)
    stage = serializers.ChoiceField(choices=Stage.choices, default=Stage.LISTEN)


class InterventionSerializer(serializers.ModelSerializer):
    owner = serializers.StringRelatedField()
    provider_school_urn = serializers.CharField(source="provider_school.urn", default=None,
                                                read_only=True)

    class Meta:
        model = Intervention
        fields = ["id", "case", "type", "description", "start_date", "review_date",
                  "planned_end_date", "end_date", "owner", "outcome", "provider_name",
                  "provider_school_urn", "created_at"]
        read_only_fields = fields


class InterventionCreateSerializer(serializers.Serializer):
    case = serializers.IntegerField()
    type = serializers.ChoiceField(choices=[c for c in InterventionType.choices
                                            if c[0] != InterventionType.PROSECUTION])
    start_date = serializers.DateField()
    review_date = serializers.DateField(required=False, allow_null=True)
    planned_end_date = serializers.DateField(required=False, allow_null=True)
    description = serializers.CharField(required=False, allow_blank=True, max_length=200)
    provider_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    provider_school_urn = serializers.CharField(required=False, allow_blank=True, max_length=6)


class ChronologyEntrySerializer(serializers.ModelSerializer):
    recorded_by = serializers.StringRelatedField()

    class Meta:
        model = ChronologyEntry
        fields = ["id", "case", "occurred_on", "kind", "note", "recorded_by", "recorded_at",
                  "corrects"]
        read_only_fields = fields


class ChronologyCreateSerializer(serializers.Serializer):
    case = serializers.IntegerField()
    occurred_on = serializers.DateField()
    kind = serializers.ChoiceField(choices=ChronologyEntry.Kind.choices)
    note = serializers.CharField(max_length=4000)
    corrects = serializers.IntegerField(required=False, allow_null=True)


class SocialWorkerDecisionCreateSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=SocialWorkerDecision.Decision.choices)
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="",
                                 help_text="Required when declining: what should happen instead.")


class SocialWorkerDecisionSerializer(serializers.ModelSerializer):
    social_worker = serializers.StringRelatedField()

    class Meta:
        model = SocialWorkerDecision
        fields = ["id", "case", "social_worker", "decision", "note", "decided_at"]
        read_only_fields = fields


class ProsecutionCreateSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class LegalDecisionSerializer(serializers.ModelSerializer):
    decided_by = serializers.StringRelatedField()
    case_stage = serializers.CharField(source="case.stage", read_only=True)

    class Meta:
        model = LegalDecision
        fields = ["id", "case", "kind", "note", "decided_by", "decided_at", "case_stage"]
        read_only_fields = fields


GATE_REFUSAL = inline_serializer("LegalGateRefusal", fields={
    "detail": serializers.CharField(),
    "missing_gates": serializers.ListField(
        child=serializers.ChoiceField(choices=["officer_consulted", "alternatives_considered",
                                               "social_worker_agreed", "hold_reviewed"]),
        required=False),
    "reasons": serializers.ListField(child=serializers.CharField(), required=False),
})
NOT_YOURS = OpenApiResponse(description="The caller may see the case but this decision is not "
                                        "theirs to make")
NOT_FOUND = OpenApiResponse(description="No case the caller may see has this id")

CASE_FILTER = OpenApiParameter("case", int, description="Only this case's rows")


class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                  viewsets.GenericViewSet):
    """Cases the caller may see. Create: officers, school leads and managers, for pupils whose
    cases they may add to."""

    serializer_class = CaseSerializer
    filterset_fields = ["stage", "status"]

    def get_queryset(self):
        return selectors.case_list(user=self.request.user).select_related(
            "pupil", "owner", "opened_by").order_by("-opened_at", "-pk")

    @extend_schema(request=CaseCreateSerializer, responses={201: CaseSerializer})
    def create(self, request, *args, **kwargs):
        body = CaseCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        pupil = selectors.pupil_get_for_casework(
            user=request.user, upn=body.validated_data["pupil_upn"].strip().upper(),
            editable=True)
        case = services.case_open(pupil=pupil, user=request.user,
                                  reason=body.validated_data["reason"],
                                  stage=body.validated_data["stage"])
        return Response(CaseSerializer(case).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=SocialWorkerDecisionCreateSerializer,
        responses={201: SocialWorkerDecisionSerializer,
                   400: OpenApiResponse(GATE_REFUSAL, description="Refused (e.g. declining "
                                                                  "without a reason)"),
                   403: NOT_YOURS, 404: NOT_FOUND},
        description="The child's allocated social worker agrees to, or declines, legal action "
                    "(the legal gate for a child on a CIN or CP plan). Anyone else who may see "
                    "the case gets a 403.")
    @action(detail=True, methods=["post"], url_path="social-worker-decision")
    def social_worker_decision(self, request, pk=None):
        case = self.get_object()
        if request.user not in allocated_social_workers(case.pupil):
            raise PermissionDenied("Only the child's allocated social worker can agree or "
                                   "decline legal action.")
        body = SocialWorkerDecisionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        record = services.social_worker_decision_record(
            case=case, user=request.user, decision=body.validated_data["decision"],
            note=body.validated_data["note"])
        return Response(SocialWorkerDecisionSerializer(record).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ProsecutionCreateSerializer,
        responses={201: LegalDecisionSerializer,
                   400: OpenApiResponse(GATE_REFUSAL, description="Refused: ``detail`` names "
                                        "each legal gate not passed; ``missing_gates`` gives "
                                        "their keys and ``reasons`` the words for each"),
                   403: NOT_YOURS, 404: NOT_FOUND},
        description="The case proceeds as a prosecution (s444 Education Act 1996) once every "
                    "legal gate is passed. LA officers and managers only; others who may see "
                    "the case get a 403.")
    @action(detail=True, methods=["post"], url_path="prosecution")
    def prosecution(self, request, pk=None):
        case = self.get_object()
        if not (request.user.is_la_officer or request.user.is_manager):
            raise PermissionDenied("Only an LA attendance officer or a manager can start a "
                                   "prosecution.")
        case = selectors.case_get_editable(user=request.user, pk=case.pk)
        body = ProsecutionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        decision = services.case_prosecution_start(case=case, user=request.user,
                                                   note=body.validated_data["note"])
        return Response(LegalDecisionSerializer(decision).data, status=status.HTTP_201_CREATED)


@extend_schema_view(list=extend_schema(parameters=[CASE_FILTER]))
class InterventionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = InterventionSerializer

    def get_queryset(self):
        items = Intervention.objects.filter(
            case__in=selectors.case_list(user=self.request.user)
        ).select_related("owner", "provider_school").order_by("-start_date", "-pk")
        case = self.request.query_params.get("case")
        if case and case.isdigit():
            items = items.filter(case_id=int(case))
        return items

    @extend_schema(request=InterventionCreateSerializer, responses={201: InterventionSerializer})
    def create(self, request, *args, **kwargs):
        body = InterventionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        case = selectors.case_get_editable(user=request.user, pk=data["case"])
        school = None
        if data.get("provider_school_urn"):
            school = get_object_or_404(School, urn=data["provider_school_urn"])
        item = services.intervention_add(
            case=case, user=request.user, type=data["type"], start_date=data["start_date"],
            review_date=data.get("review_date"), planned_end_date=data.get("planned_end_date"),
            description=data.get("description", ""), provider_name=data.get("provider_name", ""),
            provider_school=school,
        )
        return Response(InterventionSerializer(item).data, status=status.HTTP_201_CREATED)


@extend_schema_view(list=extend_schema(parameters=[CASE_FILTER]))
class ChronologyEntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                             mixins.CreateModelMixin, viewsets.GenericViewSet):
    """The chronology is append-only: there is no update or delete."""

    serializer_class = ChronologyEntrySerializer

    def get_queryset(self):
        entries = ChronologyEntry.objects.filter(
            case__in=selectors.case_list(user=self.request.user)
        ).select_related("recorded_by").order_by("case_id", "occurred_on", "recorded_at", "pk")
        case = self.request.query_params.get("case")
        if case and case.isdigit():
            entries = entries.filter(case_id=int(case))
        return entries

    @extend_schema(request=ChronologyCreateSerializer, responses={201: ChronologyEntrySerializer})
    def create(self, request, *args, **kwargs):
        body = ChronologyCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        case = selectors.case_get_editable(user=request.user, pk=data["case"])
        corrects = None
        if data.get("corrects"):
            corrects = get_object_or_404(case.chronology, pk=data["corrects"])
        entry = services.chronology_add(case=case, user=request.user,
                                        occurred_on=data["occurred_on"], kind=data["kind"],
                                        note=data["note"], corrects=corrects)
        return Response(ChronologyEntrySerializer(entry).data, status=status.HTTP_201_CREATED)
