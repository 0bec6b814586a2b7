"""The five-level department tree: national, province, city, county, station."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from departments.signals import department_moved


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

    code = models.CharField(_("代码"), max_length=12, primary_key=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("级别"), max_length=10, choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    path = models.CharField(max_length=80, db_index=True, editable=False)
    # County-level competence (complaints must go to one): counties, and the few prefecture-level
    # cities that have no county below them (e.g. 东莞, 中山, 儋州, 嘉峪关).
    is_county_level = models.BooleanField(_("县级单位"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        indexes = [
            models.Index(
                fields=["path"], name="dept_path_prefix", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def save(self, *args, **kwargs) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "parent" in update_fields:
            kwargs["update_fields"] = {*update_fields, "path"}
        with transaction.atomic():
            old_path = "" if self._state.adding else self._stored_path()
            self.path = (self.parent.path if self.parent else "") + f"{self.code}/"
            super().save(*args, **kwargs)
            moved = old_path and old_path != self.path
            if moved and self._path_saved(kwargs.get("update_fields")):
                self._move_descendants(old_path)
                department_moved.send(
                    sender=Department, code=self.code, old_path=old_path, new_path=self.path
                )

    def _stored_path(self) -> str:
        stored = Department.objects.filter(pk=self.pk).values_list("path", flat=True).first()
        return stored or ""

    @staticmethod
    def _path_saved(update_fields: Iterable[str] | None) -> bool:
        return update_fields is None or "path" in update_fields

    def _move_descendants(self, old_path: str) -> None:
        """Keep the materialised paths below a moved department true."""
        below = list(Department.objects.filter(path__startswith=old_path).exclude(pk=self.pk))
        for department in below:
            department.path = self.path + department.path[len(old_path) :]
        Department.objects.bulk_update(below, ["path"], batch_size=500)

    def clean(self) -> None:
        """A department sits under a department of a higher level and never under itself; a
        station sits under a county-level department."""
        if self.parent_id is None:
            if self.level != Level.NATIONAL:
                raise ValidationError({"parent": _("只有总局没有上级部门。")})
            return
        parent = self.parent
        assert parent is not None
        if parent.code == self.code or (self.path and parent.path.startswith(self.path)):
            raise ValidationError({"parent": _("上级部门不能是本部门或其下级部门。")})
        if LEVEL_DEPTH[Level(parent.level)] >= LEVEL_DEPTH[Level(self.level)]:
            raise ValidationError({"parent": _("上级部门的层级必须高于本部门。")})
        if self.level == Level.STATION and not parent.is_county_level:
            raise ValidationError({"parent": _("市场监管所只能设在县级部门之下。")})

    @property
    def county_bureau(self) -> Department:
        """The department that acts in public: a station acts in its county bureau's name."""
        if self.level == Level.STATION and self.parent is not None:
            return self.parent
        return self

    @property
    def bureau_name(self) -> str:
        """The name the public knows: 杭州市西湖区市场监督管理局 (see departments.naming)."""
        from departments.naming import bureau_name

        return bureau_name(self)

    def is_within(self, other: Department) -> bool:
        return self.path.startswith(other.path)

    def ancestor_codes(self) -> list[str]:
        return [code for code in self.path.split("/") if code]
