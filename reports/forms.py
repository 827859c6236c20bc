from django import forms

from reports.selectors import CHARACTERISTICS
from schools.models import Locality, Phase


class CityFilterForm(forms.Form):
    """The city dashboard's filters, read from the URL query (GET)."""

    academic_year = forms.TypedChoiceField(coerce=int, required=False)
    phase = forms.ChoiceField(required=False)
    locality = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    characteristic = forms.ChoiceField(required=False)

    def __init__(self, *args, years: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["academic_year"].choices = [(y, f"{y}/{(y + 1) % 100:02d}") for y in years]
        self.fields["phase"].choices = [("", "All phases"), *Phase.choices]
        self.fields["locality"].choices = [("", "All localities"), *Locality.objects.values_list(
            "pk", "name")]
        self.fields["characteristic"].choices = [("", "All pupils")] + [
            (key, label) for key, (label, _) in CHARACTERISTICS.items()]

    def year(self, default: int) -> int:
        self.is_valid()
        return self.cleaned_data.get("academic_year") or default

    def filters(self) -> dict:
        self.is_valid()  # invalid values are dropped: a bad link shows the whole city
        data = self.cleaned_data
        return {k: data[k] for k in ("phase", "locality", "characteristic") if data.get(k)}


class CohortFilterForm(CityFilterForm):
    """The cohort dashboards' filters: the city dashboard's, less the characteristic (the cohort
    is the characteristic)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["characteristic"]


class QuarterlyFilterForm(forms.Form):
    """The quarterly report's period: an academic year and one of its terms (GET)."""

    academic_year = forms.TypedChoiceField(coerce=int, required=False)
    term = forms.ChoiceField(required=False, choices=[
        ("autumn", "Autumn"), ("spring", "Spring"), ("summer", "Summer")])

    def __init__(self, *args, years: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["academic_year"].choices = [(y, f"{y}/{(y + 1) % 100:02d}") for y in years]

    def period(self, default: tuple[int, str]) -> tuple[int, str]:
        """(year, term) asked for; a bad or missing value falls back to the default's."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return data.get("academic_year") or default[0], data.get("term") or default[1]
