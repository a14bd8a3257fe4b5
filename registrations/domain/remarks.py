"""The remarks validation can put on a registration (spec §4.2): the contract's 17 and our 18th.

Their numbers, the exact SOAP texts and the REST codes and labels are the vocabulary both
gateways speak; which registrations carry them is decided by `registrations.validation`.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Remark:
    """One of the contract's 17 remarks: its number, exact text and REST code/labels."""

    number: int
    text: str  # verbatim, typos and double spaces included: integrators match on it
    nl: str
    fr: str
    de: str
    en: str

    @property
    def rest_code(self) -> str:
        return f"CAW_{self.number:02d}"

    @property
    def bit(self) -> int:
        return 1 << (self.number - 1)

    @property
    def labels(self) -> dict[str, str]:
        return {"nl": self.nl, "fr": self.fr, "de": self.de, "en": self.en}

    def label(self, language: str | None) -> str:
        """The label in `language` ("nl", "fr-be", ...): one of our four, else English."""
        return self.labels.get((language or "en").split("-")[0].lower(), self.en)


def remarks_in_mask(mask: int) -> list[int]:
    """The remark numbers a remark bit mask holds (bit n-1 = remark n), ascending."""
    return [bit + 1 for bit in range(63) if mask >> bit & 1]


REMARKS: dict[int, Remark] = {
    remark.number: remark
    for remark in (
        Remark(
            1,
            "RELATED DIMONA NOT OK",
            "Geen geldige Dimona",
            "Pas de Dimona valable",
            "Keine gültige Dimona",
            "No valid Dimona",
        ),
        Remark(
            2,
            "GIVEN INSS IS NOT THE FOUNDER OF THE COMPANY",
            "Het INSZ is niet de oprichter van de onderneming",
            "Le NISS n'est pas le fondateur de l'entreprise",
            "Die INSZ ist nicht der Gründer des Unternehmens",
            "The NISS is not the founder of the enterprise",
        ),
        Remark(
            3,
            "EMPLOYER IS NOT KNOWN AS COMPANY FOUNDER",
            "Geen oprichter gekend voor de onderneming",
            "Aucun fondateur connu pour l'entreprise",
            "Kein Gründer des Unternehmens bekannt",
            "No founder is known for the enterprise",
        ),
        Remark(
            4,
            "THE COMPANY DOESN'T EXISTS",
            "De onderneming bestaat niet",
            "L'entreprise n'existe pas",
            "Das Unternehmen existiert nicht",
            "The enterprise does not exist",
        ),
        Remark(
            5,
            "INDEPENDANT IS NOT KNOWN AS COMPANY FOUNDER",
            "De zelfstandige is niet gekend als oprichter van de onderneming",
            "L'indépendant n'est pas connu comme fondateur de l'entreprise",
            "Der Selbständige ist nicht als Gründer des Unternehmens bekannt",
            "The self-employed person is not known as founder of the enterprise",
        ),
        Remark(
            6,
            "LIMOSA ID IS NOT KNOWN",
            "Limosa-nummer onbekend",
            "Numéro Limosa inconnu",
            "Limosa-Nummer unbekannt",
            "Limosa id is not known",
        ),
        Remark(
            7,
            "LIMOSA ID IS NOT ACTIVE AT DATE",
            "Limosa-aangifte niet geldig op die datum",
            "Déclaration Limosa non valable à cette date",
            "Limosa-Meldung an diesem Datum nicht gültig",
            "The Limosa declaration does not cover the date",
        ),
        Remark(
            8,
            "NISS-BIS IS NOT KNOWN IN LIMOSA",
            "BIS-nummer onbekend in Limosa",
            "Numéro BIS inconnu dans Limosa",
            "BIS-Nummer in Limosa unbekannt",
            "The BIS number is not known in Limosa",
        ),
        Remark(
            9,
            "NISS-BIS IS NOT ACTIVE AT THIS DATE IN LIMOSA",
            "BIS-nummer niet actief in Limosa op die datum",
            "Numéro BIS non actif dans Limosa à cette date",
            "BIS-Nummer an diesem Datum in Limosa nicht aktiv",
            "The BIS number is not active in Limosa at the date",
        ),
        Remark(
            10,
            "DUC IS NOT EXISTING",
            "Aangifte van werken bestaat niet",
            "Déclaration de travaux inexistante",
            "Baustellenmeldung existiert nicht",
            "The Declaration of Works does not exist",
        ),
        Remark(
            11,
            "DUC IS NOT ACTIVE AT THIS DATE",
            "Aangifte van werken niet actief op die datum",
            "Déclaration de travaux non active à cette date",
            "Baustellenmeldung an diesem Datum nicht aktiv",
            "The Declaration of Works is not active at the date",
        ),
        Remark(
            12,
            "COMPANY IS NOT KNOWN  AS BUILDER OR  SUBCONTRACTOR IN THIS DUC",
            "Onderneming niet gekend als aannemer of onderaannemer in deze aangifte",
            "Entreprise non connue comme entrepreneur ou sous-traitant dans cette déclaration",
            "Unternehmen nicht als Bauunternehmer oder Subunternehmer in dieser Meldung bekannt",
            "The enterprise is neither builder nor subcontractor in this declaration",
        ),
        Remark(
            13,
            "SITE IS NOT SUBJECT TO PRESENCE REGISTRATION",
            "Werf niet onderworpen aan aanwezigheidsregistratie",
            "Chantier non soumis à l'enregistrement des présences",
            "Baustelle unterliegt nicht der Anwesenheitserfassung",
            "The workplace is not subject to presence registration",
        ),
        Remark(
            14,
            "SAME DECLARATION HAS ALREADY BEEN REGISTERED",
            "Dezelfde registratie werd al ingediend",
            "La même déclaration a déjà été enregistrée",
            "Dieselbe Meldung wurde bereits erfasst",
            "The same registration already exists",
        ),
        Remark(
            15,
            "NISS IS NOT KNOW IN THE NATIONAL REGISTER",
            "INSZ onbekend in het Rijksregister",
            "NISS inconnu au Registre national",
            "INSZ im Nationalregister unbekannt",
            "NISS not known in the National Register",
        ),
        Remark(
            16,
            "EMPLOYER NOT ACTIVE",
            "Werkgever niet actief",
            "Employeur non actif",
            "Arbeitgeber nicht aktiv",
            "The employer is not active",
        ),
        Remark(
            17,
            "THE COMPANY ID ASSOCIATED AT A NOT ACTIVE CONTRACT",
            "Geen actieve arbeidsrelatie met deze werkgever op die datum",
            "Aucune relation de travail active avec cet employeur à cette date",
            "Kein aktives Arbeitsverhältnis mit diesem Arbeitgeber an diesem Datum",
            "No employment relation with this employer covers the date",
        ),
        # Ours (not in the SOAP contract): cleaning only, spec §4.2 and §7.
        Remark(
            18,
            "PLACE OF WORK IS OUTSIDE THE RADIUS OF THE DUC",
            "Plaats van het werk buiten de straal van de aangifte van werken",
            "Lieu de travail en dehors du rayon de la déclaration de travaux",
            "Arbeitsort außerhalb des Radius der Baustellenmeldung",
            "The place of work is farther from the declared workplace than its radius",
        ),
    )
}
