"""Failed log-ins are limited per account and per address (django-axes): after the limit even the
right password is refused, with a clear message on the same log-in page, until the cool-off has
passed; other accounts from other addresses are not affected. Same for the admin's log-in."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"
LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
LIMIT = settings.AXES_FAILURE_LIMIT


@pytest.fixture
def users():
    User.objects.create_user("ann", password=PASSWORD)
    User.objects.create_user("bob", password=PASSWORD)
    User.objects.create_superuser("root", password=PASSWORD)


def log_in(username: str, password: str, *, ip: str, url: str = LOGIN):
    client = Client(REMOTE_ADDR=ip)
    data = {"username": username, "password": password}
    if url == ADMIN_LOGIN:
        data["next"] = "/admin/"
    return client, client.post(url, data)


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def fail(username: str, times: int, *, ip: str, url: str = LOGIN) -> list[int]:
    return [log_in(username, "wrong-password", ip=ip, url=url)[1].status_code for _ in range(times)]


def test_the_limit_is_five_failures_with_a_fifteen_minute_cool_off():
    assert LIMIT == 5 and settings.AXES_COOLOFF_TIME == dt.timedelta(minutes=15)
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]


def test_a_good_password_works_and_a_few_failures_do_not_lock_out(users):
    fail("ann", LIMIT - 2, ip="10.0.0.1")
    client, response = log_in("ann", PASSWORD, ip="10.0.0.1")
    assert response.status_code == 302 and logged_in(client)


def test_after_the_limit_even_the_right_password_is_refused_with_a_clear_message(users):
    # an ordinary wrong password gets the form again; the one that reaches the limit, the lockout
    assert fail("ann", LIMIT, ip="10.0.0.1") == [200] * (LIMIT - 1) + [429]
    client, response = log_in("ann", PASSWORD, ip="10.0.0.1")
    assert response.status_code == 429 and not logged_in(client)
    html = response.content.decode()
    assert "Too many failed log-ins for this account or from this address" in html
    assert "even with the right password" in html and "Try again in 15 minutes" in html
    assert '<form method="post"' in html and 'value="ann"' in html  # the log-in page, filled in


def test_the_lockout_is_per_account_from_any_address(users):
    fail("ann", LIMIT, ip="10.0.0.1")
    client, response = log_in("ann", PASSWORD, ip="10.0.0.2")
    assert response.status_code == 429 and not logged_in(client)


def test_the_lockout_is_per_address_for_any_account(users):
    for i in range(LIMIT):  # a spray: one guess at each of many accounts
        fail(f"nobody-{i}", 1, ip="10.0.0.1")
    client, response = log_in("bob", PASSWORD, ip="10.0.0.1")
    assert response.status_code == 429 and not logged_in(client)


def test_logging_in_to_an_own_account_does_not_reset_the_address_count(users):
    fail("nobody", LIMIT - 1, ip="10.0.0.1")
    client, response = log_in("bob", PASSWORD, ip="10.0.0.1")
    assert response.status_code == 302 and logged_in(client)
    assert fail("ann", 1, ip="10.0.0.1") == [429]


def test_another_account_from_another_address_is_not_affected(users):
    fail("ann", LIMIT, ip="10.0.0.1")
    client, response = log_in("bob", PASSWORD, ip="10.0.0.2")
    assert response.status_code == 302 and logged_in(client)


def test_after_the_cool_off_the_right_password_works_again(users):
    fail("ann", LIMIT, ip="10.0.0.1")
    assert log_in("ann", PASSWORD, ip="10.0.0.1")[1].status_code == 429
    AccessAttempt.objects.update(
        attempt_time=dt.datetime.now(dt.UTC) - settings.AXES_COOLOFF_TIME - dt.timedelta(seconds=1)
    )
    client, response = log_in("ann", PASSWORD, ip="10.0.0.1")
    assert response.status_code == 302 and logged_in(client)


def test_the_admin_log_in_is_limited_too_and_says_why_on_its_own_page(users):
    fail("root", LIMIT, ip="10.0.0.9", url=ADMIN_LOGIN)
    client, response = log_in("root", PASSWORD, ip="10.0.0.9", url=ADMIN_LOGIN)
    assert response.status_code == 429 and not logged_in(client)
    html = response.content.decode()
    assert 'class="errornote"' in html and "Too many failed log-ins" in html
    assert "Django administration" in html or "site administration" in html.lower()
    # the site's own log-in shares the count: the account is locked there as well
    assert log_in("root", PASSWORD, ip="10.0.0.10")[1].status_code == 429
