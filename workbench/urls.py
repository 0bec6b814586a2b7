from django.urls import path

from workbench import views

app_name = "staff"

urlpatterns = [
    path("", views.home, name="home"),
]
