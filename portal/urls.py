from django.urls import path

from portal import submit_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("my/cases/", views.my_cases, name="my_cases"),
    path("my/cases/<str:number>/", views.my_case, name="my_case"),
    path(
        "my/cases/<str:number>/<slug:action>/",
        views.case_action,
        name="my_case_action",
    ),
]

for _kind, _prefix in submit_views.URL_PREFIX.items():
    urlpatterns += [
        path(f"{_prefix}/new/", submit_views.submit, {"kind": _kind}, name=f"{_kind}_new"),
        path(
            f"{_prefix}/new/<slug:step>/",
            submit_views.submit,
            {"kind": _kind},
            name=f"{_kind}_step",
        ),
    ]
