from django.urls import path

from games import analytics_views, research_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("play/<slug:slug>/", views.match_start_view, name="play"),
    path("race/<slug:slug>/", views.race_start_view, name="race"),
    path("race-models/", views.models_race_view, name="race_models"),
    path("leaderboard/", views.leaderboard_page, name="leaderboard"),
    path("tournaments/", views.tournaments_page, name="tournaments"),
    path("tournaments/<slug:slug>/", views.tournament_page, name="tournament"),
    path("matches/<int:match_id>/seats/<int:seat_id>/trace/", views.trace_page, name="trace"),
    path("matches/<int:match_id>/", views.match_page, name="match"),
    path("matches/<int:match_id>/spectate/", views.spectate_page, name="spectate"),
    path("matches/<int:match_id>/replay/", analytics_views.replay_page, name="replay"),
    path("research/", analytics_views.research_dashboard, name="research_dashboard"),
    path(
        "research/data/<slug:plot>.<slug:fmt>", analytics_views.research_plot_data, name="research_plot_data"
    ),
    path("research/exports/", research_views.exports_page, name="research_exports"),
    path("accounts/signup/", views.signup, name="signup"),
    path("healthz", views.healthz, name="healthz"),
]
