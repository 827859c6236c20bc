from rest_framework import serializers, viewsets

from schools.models import School
from schools.selectors import school_list


class SchoolSerializer(serializers.ModelSerializer):
    dfe_number = serializers.CharField(read_only=True)
    locality = serializers.StringRelatedField()
    link_officer = serializers.StringRelatedField()

    class Meta:
        model = School
        fields = ["urn", "dfe_number", "name", "phase", "school_type", "status",
                  "statutory_low_age", "statutory_high_age", "postcode", "locality",
                  "link_officer"]


class SchoolViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = SchoolSerializer
    lookup_field = "urn"
    filterset_fields = ["phase", "locality"]

    def get_queryset(self):
        return school_list(user=self.request.user).select_related("locality", "link_officer")
