from django.urls import path

from cases import views_files

app_name = "cases"

urlpatterns = [
    path("files/<uuid:attachment_id>/", views_files.download, name="attachment-download"),
    path("<str:number>/agreement.pdf", views_files.agreement_pdf, name="case_agreement_pdf"),
]
