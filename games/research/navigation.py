"""The header's role links: Research for researchers, Admin for staff (API docs for everyone is
in the template)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from games.research.dashboard import is_researcher


def role_links(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None:
        return {"nav_research": False, "nav_admin": False}
    return {"nav_research": is_researcher(user), "nav_admin": bool(user.is_active and user.is_staff)}
