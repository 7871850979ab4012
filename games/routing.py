from django.urls import path

from games.consumers import MatchConsumer, SpectatorConsumer

websocket_urlpatterns = [
    path("ws/matches/<int:match_id>/", MatchConsumer.as_asgi()),
    path("ws/matches/<int:match_id>/spectate/", SpectatorConsumer.as_asgi()),
]
