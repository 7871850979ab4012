"""The site's pages, by capability: play, competition, research, accounts."""

from django.urls import path

from games.accounts import views as accounts
from games.competition import views as competition
from games.play import views as play
from games.play.metrics import metrics_view
from games.research import dashboard, downloads
from games.research import study_views as study

urlpatterns = [
    path("", play.home, name="home"),
    path("play/<slug:slug>/", play.match_start_view, name="play"),
    path("daily/<slug:slug>/", play.daily_start_view, name="daily"),
    path("race/<slug:slug>/", play.race_start_view, name="race"),
    path("race-models/", play.models_race_view, name="race_models"),
    path("leaderboard/", competition.leaderboard_page, name="leaderboard"),
    path("players/<slug:key>/", competition.player_page, name="player"),
    path("me/", competition.me_page, name="me"),
    path("tournaments/", competition.tournaments_page, name="tournaments"),
    path("tournaments/<slug:slug>/", competition.tournament_page, name="tournament"),
    path("matches/<int:match_id>/seats/<int:seat_id>/trace/", play.trace_page, name="trace"),
    path("matches/<int:match_id>/", play.match_page, name="match"),
    path("matches/<int:match_id>/spectate/", play.spectate_page, name="spectate"),
    path("matches/<int:match_id>/challenge/", play.challenge_page, name="challenge"),
    path("matches/<int:match_id>/replay/", dashboard.replay_page, name="replay"),
    path("research/", dashboard.research_dashboard, name="research_dashboard"),
    path("research/data/<slug:plot>.<slug:fmt>", dashboard.research_plot_data, name="research_plot_data"),
    path("research/exports/", downloads.exports_page, name="research_exports"),
    path("research/studies/", study.studies_page, name="research_studies"),
    path("research/studies/<slug:slug>/", study.study_page, name="research_study"),
    path("research/studies/<slug:slug>/close/", study.study_close_view, name="research_study_close"),
    path("study/<slug:slug>/", study.study_join, name="study_join"),
    path("study/<slug:slug>/consent/", study.study_consent, name="study_consent"),
    path("study/<slug:slug>/next/", study.study_next, name="study_next"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("healthz", play.healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
]
