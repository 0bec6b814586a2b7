from django.contrib import admin
from django.urls import include, path

from api.main import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("accounts.urls")),
    path("cases/", include("cases.urls")),
    path("staff/", include("workbench.urls")),
    path("supervision/", include("supervision.urls")),
    path("", include("portal.urls")),
]

handler404 = "api.errors.not_found_view"
handler500 = "api.errors.server_error_view"
