from django.urls import path

from games import views

urlpatterns = [
    path("", views.home, name="home"),
    path("play/<slug:slug>/", views.match_start_view, name="play"),
    path("race/<slug:slug>/", views.race_start_view, name="race"),
    path("race-models/", views.models_race_view, name="race_models"),
    path("matches/<int:match_id>/seats/<int:seat_id>/trace/", views.trace_page, name="trace"),
    path("matches/<int:match_id>/", views.match_page, name="match"),
    path("matches/<int:match_id>/spectate/", views.spectate_page, name="spectate"),
    path("accounts/signup/", views.signup, name="signup"),
    path("healthz", views.healthz, name="healthz"),
]
