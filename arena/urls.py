from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView


class FaviconRedirect(RedirectView):
    """Browsers and crawlers ask for /favicon.ico whatever the page says: send them to the icon."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs):
        return static("arena/favicon.svg")


urlpatterns = [
    path("favicon.ico", FaviconRedirect.as_view(), name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("games.api.urls")),
    path("", include("games.urls")),
]
