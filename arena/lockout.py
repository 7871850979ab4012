"""What a locked-out log-in sees (django-axes' AXES_LOCKOUT_CALLABLE): the same log-in page it
came from, the site's or the admin's, with the reason and how long to wait, and status 429."""

from __future__ import annotations

import math
from typing import Any

from axes.helpers import get_client_username, get_cool_off
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

LOCKED_OUT_STATUS = 429


def lockout_message(request: HttpRequest | None = None) -> str:
    cool_off = get_cool_off(request)
    wait = ""
    if cool_off:
        minutes = max(1, math.ceil(cool_off.total_seconds() / 60))
        wait = f" Try again in {minutes} minute{'s' if minutes != 1 else ''}."
    return (
        "Too many failed log-ins for this account or from this address, so log-ins are refused "
        f"for now, even with the right password.{wait}"
    )


def _locked_out_form(base: type[AuthenticationForm], request: HttpRequest, username: str, message: str):
    class LockedOutForm(base):  # type: ignore[valid-type,misc]
        def __init__(self) -> None:
            super().__init__(request, data={"username": username, "password": ""})
            self.fields["password"].required = False

        def clean(self) -> dict[str, Any]:
            raise ValidationError(message, code="locked_out")

    return LockedOutForm()


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    username = get_client_username(request, credentials) or ""
    message = lockout_message(request)
    if request.path.startswith(reverse("admin:index")):
        form = _locked_out_form(AdminAuthenticationForm, request, username, message)
        context = {
            **admin.site.each_context(request),
            "title": "Log in",
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": request.user.get_username() if hasattr(request, "user") else "",
            "form": form,
        }
        if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
            context[REDIRECT_FIELD_NAME] = reverse("admin:index")
        return render(request, "admin/login.html", context, status=LOCKED_OUT_STATUS)
    form = _locked_out_form(AuthenticationForm, request, username, message)
    context = {"form": form, "next": request.POST.get(REDIRECT_FIELD_NAME, "")}
    return render(request, "registration/login.html", context, status=LOCKED_OUT_STATUS)
