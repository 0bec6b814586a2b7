"""Admin for users and memberships, scoped for department administrators (see accounts.access).

A superuser manages everything. A staff user with the `dept_admin` role sees and changes only the
staff of their department subtree and only assigns departments inside it; they cannot make anyone
a superuser, hand out Django permissions or groups, tie an account to a business or mark it
real-name verified (only registration does that, after checking the ID number).
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import InvalidToken
from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import ForeignKey, Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.access import departments_managed_by, memberships_managed_by, users_managed_by
from accounts.identity import (
    InvalidIdNumber,
    decrypt_id_number,
    id_number_hash,
    mask_id_number,
    mask_phone,
    validate_id_number,
)
from accounts.models import Membership, Role, User

SUPERUSER_ONLY_FIELDS = ("is_superuser", "groups", "user_permissions", "business", "is_verified")


def _acting_user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


class MembershipForm(forms.ModelForm):
    roles = forms.MultipleChoiceField(
        label=_("角色"), choices=Role.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Membership
        fields = ["user", "department", "roles"]

    def clean_roles(self) -> list[str]:
        return sorted(set(self.cleaned_data["roles"]), key=Role.values.index)


class ScopedDepartmentMixin:
    """Department (and user) choices limited to what the acting admin manages; the form rejects
    anything else even when posted by hand."""

    def formfield_for_foreignkey(
        self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField | None:
        if db_field.name == "department":
            kwargs["queryset"] = departments_managed_by(_acting_user(request))
        elif db_field.name == "user":
            kwargs["queryset"] = users_managed_by(_acting_user(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]


class MembershipInline(ScopedDepartmentMixin, admin.TabularInline):
    model = Membership
    form = MembershipForm
    fields = ["department", "roles"]
    raw_id_fields = ["department"]
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return memberships_managed_by(_acting_user(request)).select_related("department")

    def get_formset(
        self, request: HttpRequest, obj: Any = None, **kwargs: Any
    ) -> type[BaseInlineFormSet]:
        # A department admin's users must keep a membership in the subtree, or they would vanish
        # from the admin's view (and a new user would be created out of reach).
        if not _acting_user(request).is_superuser:
            kwargs.update(min_num=1, validate_min=True)
        return super().get_formset(request, obj, **kwargs)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            _("实名信息"),
            {"fields": ("real_name", "phone", "masked_id_number", "is_verified", "email")},
        ),
        (_("单位与通知"), {"fields": ("business", "notify_sms")}),
        (
            _("权限"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("重要日期"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "real_name",
                    "phone",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    list_display = (
        "username",
        "real_name",
        "masked_phone",
        "masked_id_number",
        "is_verified",
        "is_staff",
        "business",
    )
    list_filter = ("is_verified", "is_staff", "is_active")
    list_select_related = ("business",)
    search_fields = ("username", "real_name", "phone")
    ordering = ("username",)
    raw_id_fields = ("business",)
    inlines = [MembershipInline]

    @admin.display(description=_("身份证号"))
    def masked_id_number(self, obj: User) -> str:
        try:
            return mask_id_number(decrypt_id_number(obj.id_number_encrypted))
        except InvalidToken:
            return str(_("（无法解密）"))

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj: User) -> str:
        return mask_phone(obj.phone)

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return users_managed_by(_acting_user(request))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = ["masked_id_number", "last_login", "date_joined"]
        if not _acting_user(request).is_superuser:
            fields += SUPERUSER_ONLY_FIELDS
        return fields

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[User], search_term: str
    ) -> tuple[QuerySet[User], bool]:
        """Also find a user by full ID number, through its keyed hash (the number itself is only
        stored encrypted)."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        try:
            number = validate_id_number(search_term)
        except InvalidIdNumber:
            return results, may_have_duplicates
        return queryset.filter(Q(pk__in=results) | Q(id_number_hash=id_number_hash(number))), True


@admin.register(Membership)
class MembershipAdmin(ScopedDepartmentMixin, admin.ModelAdmin):
    form = MembershipForm
    list_display = ("user", "department", "roles", "created_at")
    list_select_related = ("user", "department")
    search_fields = ("user__username", "user__real_name", "department__code", "department__name")
    raw_id_fields = ("user", "department")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return memberships_managed_by(_acting_user(request))
