from django.apps import AppConfig


class PupilsConfig(AppConfig):
    name = "pupils"

    def ready(self):
        from auditlog.registry import auditlog

        from pupils.models import Characteristics, Enrolment, Pupil, SocialWorkerAllocation

        auditlog.register(Pupil)
        auditlog.register(Enrolment)
        auditlog.register(SocialWorkerAllocation)
        auditlog.register(Characteristics)
