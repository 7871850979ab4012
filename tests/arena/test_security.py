"""Deployment hardening: `check --deploy` is clean with the production flags, https is enforced
behind the TLS proxy (the health probe excepted), and every page carries a strict
Content-Security-Policy that the templates and the rendered pages really keep (no inline
script, no inline event handlers, no inline styles)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.urls import URLPattern, URLResolver

from games.competition import rating_snapshots, tournaments
from games.models import RuleChallenge, Seat
from games.play import services
from games.research import studies
from tests import factories
from tests.workers.helpers import builtin

REPO = Path(__file__).resolve().parents[2]


def production_env(tmp_path: Path) -> dict[str, str]:
    # conftest sets DJANGO_ALLOW_ASYNC_UNSAFE for Playwright; a deployment must not.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ARENA_") and k not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        ARENA_DATA_DIR=str(tmp_path),
        ARENA_SECRET_KEY="x" * 30 + "a-long-random-production-secret-key-0123456789",
        ARENA_ALLOWED_HOSTS="arena.example.org,testserver",
        ARENA_CSRF_TRUSTED_ORIGINS="https://arena.example.org",
        ARENA_BEHIND_TLS_PROXY="1",
        ARENA_SERVE_STATIC="0",
        DJANGO_SETTINGS_MODULE="arena.settings",
    )
    env.pop("ARENA_DEBUG", None)
    return env


def test_check_deploy_has_no_warnings_with_the_production_settings(tmp_path):
    proc = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no issues" in proc.stdout


def test_behind_the_proxy_http_is_redirected_and_https_gets_hsts_but_the_probe_is_answered(tmp_path):
    # In a subprocess: the settings read the environment once, at import.
    script = textwrap.dedent(
        """
        import django
        django.setup()
        from django.test import Client
        c = Client()
        r = c.get("/leaderboard/")
        print("page-http", r.status_code, r.headers.get("Location"))
        r = c.get("/healthz")
        print("probe-http", r.status_code)
        r = c.get("/healthz", HTTP_X_FORWARDED_PROTO="https")
        print("probe-https", r.status_code, r.headers.get("Strict-Transport-Security"))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "page-http 301 https://testserver/leaderboard/" in lines
    assert "probe-http 200" in lines
    assert "probe-https 200 max-age=31536000; includeSubDomains; preload" in lines


# -- content security policy -----------------------------------------------------------------------

TEMPLATES = REPO / "templates"
INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I | re.S)
STYLE_ATTRIBUTE = re.compile(r"<[^>]*\sstyle\s*=", re.I | re.S)
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.I | re.S)


def test_no_template_has_inline_script_handlers_or_style_attributes():
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) >= 15
    problems = []
    for path in templates:
        text = path.read_text()
        name = path.relative_to(TEMPLATES)
        for attrs in SCRIPT_TAG.findall(text):
            if "src=" not in attrs and 'type="application/json"' not in attrs:
                problems.append(f"{name}: inline <script{attrs}>")
        if INLINE_HANDLER.search(text):
            problems.append(f"{name}: inline event handler")
        if STYLE_ATTRIBUTE.search(text) or "<style" in text:
            problems.append(f"{name}: inline style")
        if "javascript:" in text.lower():
            problems.append(f"{name}: javascript: URL")
    assert problems == []


class InlineFinder(HTMLParser):
    """Everything in a rendered page that a strict CSP would block."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.scripts = 0
        self.in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name == "style":
                self.problems.append(f"<{tag} style=...>")
            if name in {"href", "src", "action"} and (value or "").lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:...>")
        if tag == "style":
            self.problems.append("<style>")
        if tag == "script":
            self.scripts += 1
            self.in_inline_script = "src" not in names and names.get("type") != "application/json"

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_inline_script = False

    def handle_data(self, data: str) -> None:
        if self.in_inline_script and data.strip():
            self.problems.append(f"inline script: {data.strip()[:60]}")


@pytest.fixture
def site(client):
    """One of everything a page can show: a finished race with a model seat, a running match,
    a tournament, and a staff researcher to see the research and admin pages."""
    contestant = builtin("infogain")
    variant = factories.variant()
    race, human = services.race_create(
        variant=variant,
        opponents=[contestant.slug],
        seed=4,
        human_handle="Ann",
        session_key=factories.session_key(),
    )
    services.match_start(match=race)
    model = race.seats.get(kind=Seat.Kind.MODEL)
    services.step_submit(seat=human, action={"type": "test", "input": [1, 2, 3]})
    services.step_submit(seat=human, action={"type": "guess", "rule": factories.HIDDEN_RULE})
    services.step_submit(seat=model, action={"type": "guess", "rule": "x > y"})
    race.refresh_from_db()
    assert race.status == "finished"
    running, (seat,) = factories.match()
    tournament = tournaments.tournament_create(
        slug="cup", title="Cup", variants=[variant], contestants=[contestant], seeds="0-1"
    )
    staff = User.objects.create_superuser("boss", password="pw-long-enough-1")
    study = studies.study_create(
        design=studies.StudyDesign(
            title="A study", consent_text="Agree?", puzzles=[variant.slug], completion_code="C1",
            attention_checks=[{"after": 0, "question": "Type yes", "answer": "yes"}],
        )
    )  # fmt: skip
    participant, _ = studies.participant_join(study=study, ids=studies.PanelIds(pid="p-1"))
    session = client.session  # the study pages find the participant in the session (kept at log-in)
    session["studies"] = {str(study.pk): participant.pk}
    session.save()
    rating_snapshots.ratings_refresh()  # the leaderboard and player pages with their charts
    challenge = RuleChallenge.objects.create(
        author=staff, base=variant, rule="x > 1", params={}, title="A rule", trial={}
    )
    return {
        "challenge": challenge,
        "race": race,
        "model_seat": model,
        "running": running,
        "seat": seat,
        "tournament": tournament,
        "variant": variant,
        "staff": staff,
        "study": study,
    }


def page_urls(site) -> dict[str, str]:
    race, running = site["race"], site["running"]
    return {
        "home": "/",
        "leaderboard": "/leaderboard/",
        "tournaments": "/tournaments/",
        "tournament": f"/tournaments/{site['tournament'].slug}/",
        "match": f"/matches/{race.pk}/",
        "match-running": f"/matches/{running.pk}/",
        "spectate": f"/matches/{running.pk}/spectate/",
        "replay": f"/matches/{race.pk}/replay/",
        "challenge": f"/matches/{race.pk}/challenge/",
        "trace": f"/matches/{race.pk}/seats/{site['model_seat'].pk}/trace/",
        "research_dashboard": "/research/",
        "research_exports": "/research/exports/",
        "login": "/accounts/login/",
        "signup": "/accounts/signup/",
        "api-docs": "/api/docs",
        "admin": "/admin/",
        "admin-matches": "/admin/games/match/",
        "admin-match": f"/admin/games/match/{race.pk}/change/",
        "admin-variant-add": "/admin/games/puzzlevariant/add/",
        "admin-tournament-add": "/admin/games/tournament/add/",
        "not-found": "/no-such-page/",
        "player": f"/players/model-{site['model_seat'].contestant}/",
        "me": "/me/",
        "research_studies": "/research/studies/",
        "research_study": f"/research/studies/{site['study'].slug}/",
        "study_join": f"/study/{site['study'].slug}/?PROLIFIC_PID=someone",
        "study_next": f"/study/{site['study'].slug}/next/",
        "admin-studies": "/admin/games/study/",
        "lobby_join": f"/matches/{race.pk}/join/",
        "rule_challenges": "/rules/",
        "rule_challenge": f"/rules/{site['challenge'].pk}/",
    }


def _games_page_names() -> set[str]:
    """Every named route of the site that answers GET with a page (not data or a POST action)."""
    from games import urls

    names = set()
    for entry in urls.urlpatterns:
        assert isinstance(entry, URLPattern | URLResolver)
        names.add(entry.name)
    posts = {"study_consent", "research_study_close", "learn", "learn_done", "lobby", "lobby_start"}
    return names - {
        "play",
        "daily",
        "race",
        "race_models",
        "research_plot_data",
        "healthz",
        "metrics",
        *posts,
    }


@pytest.mark.django_db
def test_every_page_has_the_csp_header_and_nothing_it_would_block(client, site):
    urls = page_urls(site)
    assert _games_page_names() <= set(urls), "a new page: add it to page_urls"
    client.force_login(site["staff"])
    checked = []
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code in {200, 404}, (name, response.status_code)
        csp = response.headers.get("Content-Security-Policy", "")
        assert "script-src 'self'" in csp and "style-src 'self'" in csp, (name, csp)
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        finder = InlineFinder()
        finder.feed(response.content.decode())
        assert finder.problems == [], (name, finder.problems)
        checked.append(name)
    client.logout()
    for name in ("home", "login", "match-running"):  # and as an anonymous visitor
        response = client.get(urls[name])
        finder = InlineFinder()
        finder.feed(response.content.decode())
        assert "Content-Security-Policy" in response.headers and finder.problems == [], name
    assert len(checked) == len(urls)


@pytest.mark.django_db
def test_json_data_blocks_stay_allowed_because_they_are_not_executed(client, site):
    """json_script blocks are data: a browser does not run a script whose type is not
    JavaScript, so script-src never applies to them and the replay still gets its data."""
    client.force_login(site["staff"])
    response = client.get(f"/matches/{site['race'].pk}/replay/")
    assert '<script id="replay-data" type="application/json">' in response.content.decode()
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
