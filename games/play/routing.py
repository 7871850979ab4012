from django.urls import path, re_path

from games.play.consumers import MatchConsumer, NotFoundConsumer, SpectatorConsumer

websocket_urlpatterns = [
    path("ws/matches/<int:match_id>/", MatchConsumer.as_asgi()),
    path("ws/matches/<int:match_id>/spectate/", SpectatorConsumer.as_asgi()),
    re_path(r"", NotFoundConsumer.as_asgi()),  # any other path: 4404, never "No route found"
]
