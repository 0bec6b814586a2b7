from django.urls import path

from workbench import hotline, views

app_name = "staff"

urlpatterns = [
    path("", views.queue, name="home"),
    path("queue/<slug:queue>/", views.queue, name="queue"),
    path("membership/", views.switch_membership, name="membership"),
    path("cases/<str:number>/", views.case_detail, name="case"),
    path("cases/<str:number>/act/", views.case_act, name="act"),
    path("hotline/", hotline.hotline, name="hotline"),
]
