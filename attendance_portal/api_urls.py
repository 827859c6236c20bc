from rest_framework.routers import DefaultRouter

from alerts.api import AlertViewSet
from attendance.api import ImportRunViewSet, pupil_attendance_urls
from interventions.api import CaseViewSet, ChronologyEntryViewSet, InterventionViewSet
from pupils.api import PupilViewSet
from reports.api import report_urls
from schools.api import SchoolViewSet
from tsm.api import ActionViewSet, MeetingViewSet

router = DefaultRouter()
router.register("schools", SchoolViewSet, basename="school")
router.register("pupils", PupilViewSet, basename="pupil")
router.register("alerts", AlertViewSet, basename="alert")
router.register("imports", ImportRunViewSet, basename="import")
router.register("tsm/meetings", MeetingViewSet, basename="tsm-meeting")
router.register("tsm/actions", ActionViewSet, basename="tsm-action")
router.register("cases", CaseViewSet, basename="case")
router.register("interventions", InterventionViewSet, basename="intervention")
router.register("chronology", ChronologyEntryViewSet, basename="chronology-entry")

urlpatterns = router.urls + pupil_attendance_urls + report_urls
