"""Routes under /api/. Everything under /api/v1/ is listed in openapi.py (a test checks)."""

from django.urls import path, re_path

from games.api import ratings, research, tournaments, views

app_name = "api"

urlpatterns = [
    path("v1/variants", views.variants, name="variants"),
    path("v1/contestants", views.contestants, name="contestants"),
    path("v1/leaderboard", views.leaderboard, name="leaderboard"),
    path("v1/ratings", ratings.ratings, name="ratings"),
    path("v1/tournaments", tournaments.tournaments, name="tournaments"),
    path("v1/tournaments/<slug:slug>", tournaments.tournament_detail, name="tournament"),
    path("v1/matches", views.matches, name="matches"),
    path("v1/matches/<int:match_id>", views.match_detail, name="match"),
    path("v1/seats/<int:seat_id>/actions", views.seat_actions, name="seat-actions"),
    path("v1/research/matches", research.research_matches, name="research-matches"),
    path("v1/research/matches/<int:match_id>/steps", research.research_match_steps, name="research-steps"),
    path("v1/research/export", research.research_export, name="research-export"),
    path("openapi.json", views.openapi_json, name="openapi"),
    path("docs", views.docs, name="docs"),
    # Anything else under /api/ answers in JSON too, so a client never has to parse an HTML 404.
    re_path(r"^(?P<rest>.*)$", views.not_found, name="not-found"),
]
