"""Department administration. A department administrator who is not a superuser sees and edits
only the departments in their own subtree, and cannot move a department out of it."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import ForeignKey, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest

from departments.access import admin_subtree_paths, can_administer, departments_administered_by
from departments.models import Department


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent", "is_county_level", "is_active")
    list_filter = ("level", "is_county_level", "is_active")
    search_fields = ("code", "name")
    list_select_related = ("parent",)
    autocomplete_fields = ("parent",)
    readonly_fields = ("path", "created_at", "updated_at")
    fields = (
        "code",
        "name",
        "level",
        "parent",
        "is_county_level",
        "is_active",
        "path",
        "created_at",
        "updated_at",
    )
    ordering = ("code",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Department]:
        return departments_administered_by(request.user).select_related("parent")

    def get_readonly_fields(
        self, request: HttpRequest, obj: Department | None = None
    ) -> tuple[str, ...]:
        readonly = tuple(self.readonly_fields)
        if obj is None:
            return readonly
        # The code is the primary key: editing it would copy the department, not rename it.
        readonly += ("code",)
        if obj.path in admin_subtree_paths(request.user) and not request.user.is_superuser:
            # The top of an administrator's own subtree stays where it is.
            readonly += ("parent", "level")
        return readonly

    def get_form(
        self,
        request: HttpRequest,
        obj: Department | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        if "parent" in form.base_fields and not request.user.is_superuser:
            # Only the national office has no parent, and only a superuser may create one.
            form.base_fields["parent"].required = True
        return form

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if db_field.name == "parent":
            # A parent outside the administrator's subtree does not validate.
            kwargs["queryset"] = departments_administered_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and self._administers_any(request)

    def has_view_permission(self, request: HttpRequest, obj: Department | None = None) -> bool:
        return super().has_view_permission(request, obj) and self._administers(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Department | None = None) -> bool:
        return super().has_change_permission(request, obj) and self._administers(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Department | None = None) -> bool:
        return super().has_delete_permission(request, obj) and self._administers(request, obj)

    def _administers(self, request: HttpRequest, obj: Department | None) -> bool:
        if obj is None:
            return self._administers_any(request)
        return can_administer(request.user, obj)

    @staticmethod
    def _administers_any(request: HttpRequest) -> bool:
        return request.user.is_superuser or bool(admin_subtree_paths(request.user))
