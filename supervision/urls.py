from django.urls import path

from supervision import dashboard, views

app_name = "supervision"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("outbox/", views.outbox, name="outbox"),
    path("orders/<int:order_id>/respond/", views.respond, name="respond"),
    path("preferences/", views.preferences, name="preferences"),
    path("cases/<str:number>/order/", views.case_order, name="case_order"),
    path("cases/<str:number>/tracking/", views.case_tracking, name="case_tracking"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/<str:code>/", dashboard.dashboard, name="dashboard_of"),
    path("dashboard/<str:code>/cases/", dashboard.cases_behind, name="cases_behind"),
]
