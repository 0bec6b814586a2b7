"""The five-level department tree: national, province, city, county, station."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    NATIONAL = "national", _("总局")
    PROVINCE = "province", _("省局")
    CITY = "city", _("市局")
    COUNTY = "county", _("县局")
    STATION = "station", _("市场监管所")


LEVEL_DEPTH = {
    Level.NATIONAL: 0,
    Level.PROVINCE: 1,
    Level.CITY: 2,
    Level.COUNTY: 3,
    Level.STATION: 4,
}
NATIONAL_CODE = "100000"


class DepartmentQuerySet(models.QuerySet["Department"]):
    def subtree_of(self, department: Department) -> DepartmentQuerySet:
        """The department and everything below it, by materialised path (an indexed prefix scan)."""
        return self.filter(path__startswith=department.path)


class Department(models.Model):
    """A market-regulation department. `code` is GB/T 2260 (six digits) or county code + 3 for
    stations; `path` is the codes from national down to this one, each followed by '/'."""

    code = models.CharField(_("code"), max_length=12, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    path = models.CharField(max_length=80, db_index=True, editable=False)
    # County-level competence (complaints must go to one): counties, and the few prefecture-level
    # cities that have no county below them (e.g. 东莞, 中山, 儋州, 嘉峪关).
    is_county_level = models.BooleanField(_("county-level unit"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        indexes = [
            models.Index(
                fields=["path"], name="dept_path_prefix", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def save(self, *args, **kwargs) -> None:
        self.path = (self.parent.path if self.parent else "") + f"{self.code}/"
        super().save(*args, **kwargs)

    @property
    def county_bureau(self) -> Department:
        """The department that acts in public: a station acts in its county bureau's name."""
        if self.level == Level.STATION and self.parent is not None:
            return self.parent
        return self

    def is_within(self, other: Department) -> bool:
        return self.path.startswith(other.path)

    def ancestor_codes(self) -> list[str]:
        return [code for code in self.path.split("/") if code]
