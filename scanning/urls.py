from django.urls import path

from scanning import views

app_name = "scanning"

urlpatterns = [
    path("-/vulnerabilities/", views.vulnerability_overview, name="vulnerability-overview"),
]
