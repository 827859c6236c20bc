from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from alerts.models import Alert
from alerts.selectors import alert_list
from alerts.services import alert_acknowledge


class AlertSerializer(serializers.ModelSerializer):
    pupil_upn = serializers.CharField(source="pupil.upn", default=None, read_only=True)
    school_urn = serializers.CharField(source="school.urn", default=None, read_only=True)
    acknowledged_by = serializers.StringRelatedField()

    class Meta:
        model = Alert
        fields = ["id", "rule", "summary", "evidence", "pupil_upn", "school_urn", "created_at",
                  "read_at", "acknowledged_at", "acknowledged_by", "acknowledgement_note"]
        read_only_fields = fields


class AcknowledgeSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = AlertSerializer
    filterset_fields = ["rule"]

    def get_queryset(self):
        return alert_list(user=self.request.user).select_related("pupil", "school",
                                                                  "acknowledged_by")

    @extend_schema(request=AcknowledgeSerializer, responses=AlertSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        body = AcknowledgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        alert = alert_acknowledge(alert=self.get_object(), user=request.user,
                                  note=body.validated_data.get("note", ""))
        return Response(AlertSerializer(alert).data)
