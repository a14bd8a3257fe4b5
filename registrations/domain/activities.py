"""The catalogue of cleaning activities (spec §6 `refData/activities`) [ours].

An activity is what the person does at the place of work; a registration's optional
`activity` must be one of these codes. Codes are stable (integrators store them); labels
are in the four languages of the service.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Activity:
    code: str
    nl: str
    fr: str
    de: str
    en: str

    @property
    def labels(self) -> dict[str, str]:
        return {"nl": self.nl, "fr": self.fr, "de": self.de, "en": self.en}


ACTIVITIES: dict[str, Activity] = {
    activity.code: activity
    for activity in (
        Activity(
            "OFFICE_CLEANING",
            "Schoonmaak van kantoren",
            "Nettoyage de bureaux",
            "Büroreinigung",
            "Office cleaning",
        ),
        Activity(
            "BUILDING_CLEANING",
            "Schoonmaak van gebouwen en gemeenschappelijke delen",
            "Nettoyage de bâtiments et de parties communes",
            "Gebäude- und Treppenhausreinigung",
            "Building and common areas cleaning",
        ),
        Activity(
            "WINDOW_CLEANING",
            "Glazenwassen",
            "Lavage de vitres",
            "Fensterreinigung",
            "Window cleaning",
        ),
        Activity(
            "INDUSTRIAL_CLEANING",
            "Industriële schoonmaak",
            "Nettoyage industriel",
            "Industriereinigung",
            "Industrial cleaning",
        ),
        Activity(
            "HOSPITAL_CLEANING",
            "Schoonmaak in de zorgsector",
            "Nettoyage en milieu de soins",
            "Reinigung im Gesundheitswesen",
            "Healthcare cleaning",
        ),
        Activity(
            "TRANSPORT_CLEANING",
            "Schoonmaak van voertuigen en transportmiddelen",
            "Nettoyage de véhicules et moyens de transport",
            "Reinigung von Fahrzeugen und Verkehrsmitteln",
            "Vehicle and transport cleaning",
        ),
        Activity(
            "CONSTRUCTION_SITE_CLEANING",
            "Opkuis van bouwplaatsen",
            "Nettoyage de chantiers",
            "Baustellenreinigung",
            "Construction site cleaning",
        ),
        Activity(
            "OTHER",
            "Andere schoonmaakactiviteit",
            "Autre activité de nettoyage",
            "Sonstige Reinigungstätigkeit",
            "Other cleaning activity",
        ),
    )
}
