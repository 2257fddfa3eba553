from django.urls import path

from . import pages, views

app_name = "search"
urlpatterns = [
    path("", views.home, name="home"),
    path("search", views.search, name="search"),
    path("statistics", pages.statistics_page, name="statistics"),
    path("gw", pages.gw_page, name="gw"),
    path("xmatch", pages.xmatch_page, name="xmatch"),
]
