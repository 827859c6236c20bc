from rest_framework import serializers, viewsets
from rest_framework.response import Response

from pupils.models import Pupil
from pupils.selectors import pupil_list
from pupils.services import pupil_view_record


class PupilSerializer(serializers.ModelSerializer):
    class Meta:
        model = Pupil
        fields = ["upn", "surname", "forename", "date_of_birth", "sex"]


class PupilViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PupilSerializer
    lookup_field = "upn"

    def get_queryset(self):
        return pupil_list(user=self.request.user)

    def retrieve(self, request, *args, **kwargs):
        pupil = self.get_object()
        pupil_view_record(pupil=pupil, user=request.user)
        return Response(self.get_serializer(pupil).data)
