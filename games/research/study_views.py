"""Study pages. Participants: the join link (consent), each step of the sequence, the end.
Researchers: the list of studies with the form for a new one, and a study's progress page with
its join link and the button that closes it. Thin: the work is in games/research/studies.py."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from games.models import PuzzleVariant, Study, StudyParticipant
from games.play import limits
from games.research import studies
from games.research.dashboard import researcher_required

SESSION_KEY = "studies"  # {study id: participant id}, set only once a participant has consented


# -- participants -------------------------------------------------------------------------------------


def _bind(request: HttpRequest, *, study: Study, participant: StudyParticipant) -> None:
    places = dict(request.session.get(SESSION_KEY) or {})
    places[str(study.pk)] = participant.pk
    request.session[SESSION_KEY] = places


def _participant(request: HttpRequest, study: Study) -> StudyParticipant | None:
    pk = (request.session.get(SESSION_KEY) or {}).get(str(study.pk))
    return StudyParticipant.objects.filter(pk=pk, study=study).select_related("study").first() if pk else None


def _session_key(request: HttpRequest) -> str:
    if not request.session.session_key:
        request.session.save()
    return str(request.session.session_key)


def _problem(request: HttpRequest, study: Study, message: str, *, status: int = 400) -> HttpResponse:
    return render(request, "study/message.html", {"study": study, "message": message}, status=status)


def _closed(request: HttpRequest, study: Study) -> HttpResponse:
    return render(request, "study/closed.html", {"study": study}, status=410)


@require_http_methods(["GET"])
def study_join(request: HttpRequest, slug: str) -> HttpResponse:
    """The join link. Writes nothing for someone new: it shows the consent text. A participant who
    already consented (this ID, from any browser) resumes where they were."""
    study = get_object_or_404(Study, slug=slug)
    try:
        ids = studies.PanelIds.from_query(study=study, params=request.GET)
    except studies.StudyError as exc:
        return _problem(request, study, exc.message)
    participant = studies.participant_find(study=study, ids=ids)
    if participant is not None:
        _bind(request, study=study, participant=participant)
        return redirect("study_next", slug=study.slug)
    if not study.is_open:
        return _closed(request, study)
    return render(request, "study/consent.html", {"study": study, "ids": ids.as_query(study)})


@require_POST
def study_consent(request: HttpRequest, slug: str) -> HttpResponse:
    study = get_object_or_404(Study, slug=slug)
    try:
        ids = studies.PanelIds.from_query(study=study, params=request.POST)
    except studies.StudyError as exc:
        return _problem(request, study, exc.message)
    if request.POST.get("choice") != "agree":
        # Declining keeps nothing: no participant, no session, no match.
        return render(request, "study/declined.html", {"study": study})
    try:
        participant, _ = studies.participant_join(study=study, ids=ids)
    except studies.StudyClosed:
        return _closed(request, study)
    _bind(request, study=study, participant=participant)
    return redirect("study_next", slug=study.slug)


@require_http_methods(["GET", "POST"])
def study_next(request: HttpRequest, slug: str) -> HttpResponse:
    """Where the participant is: a puzzle to start (or their running match), a question, or the end."""
    study = get_object_or_404(Study, slug=slug)
    participant = _participant(request, study)
    if participant is None:
        return _problem(
            request,
            study,
            "We could not find your place in this study in this browser. Please open the study link "
            "from your recruiting site again: you will continue where you were.",
        )
    error = ""
    if request.method == "POST":
        try:
            position = int(request.POST.get("position", ""))
        except ValueError:
            position = -1
        try:
            if request.POST.get("action") == "start":
                match = studies.puzzle_start(
                    participant=participant,
                    position=position,
                    session_key=_session_key(request),
                    creator=limits.creator_for_request(request, session_key=_session_key(request)),
                )
                return redirect("match", match_id=match.pk)
            studies.check_answer(
                participant=participant, position=position, answer=request.POST.get("answer", "")
            )
            return redirect("study_next", slug=study.slug)
        except studies.StudyError as exc:
            error = exc.message
    current = studies.participant_sync(participant=participant, session_key=_session_key(request))
    if current.kind == "done":
        if study.return_url:
            return redirect(study.return_url)
        return render(request, "study/done.html", {"study": study})
    if current.kind == "puzzle" and current.match is not None:
        return redirect("match", match_id=current.match.pk)
    variant = None
    if current.kind == "puzzle":
        variant = PuzzleVariant.objects.filter(slug=current.item["variant"]).first()
    return render(
        request,
        "study/step.html",
        {"study": study, "current": current, "variant": variant, "error": error},
        status=400 if error else 200,
    )


# -- researchers -------------------------------------------------------------------------------------


class StudyForm(forms.Form):
    title = forms.CharField(max_length=120)
    slug = forms.SlugField(max_length=80, required=False, help_text="empty: made from the title")
    consent_text = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), max_length=20_000)
    puzzles = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="published variant slugs, one per line, in the listed order",
    )
    order = forms.ChoiceField(choices=Study.Order.choices, initial=Study.Order.FIXED)
    attention_checks = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="one per line: after puzzle | question | answer (after 0 = before the first puzzle)",
    )
    time_limit_s = forms.IntegerField(min_value=1, required=False, label="Time limit per puzzle (seconds)")
    max_tests = forms.IntegerField(min_value=1, required=False, label="Tests per puzzle")
    max_duration_min = forms.IntegerField(min_value=1, initial=60, label="Counted as dropped after (minutes)")
    completion_code = forms.CharField(max_length=100, required=False)
    return_url = forms.URLField(max_length=500, required=False, assume_scheme="https")
    pid_param = forms.CharField(max_length=40, initial="PROLIFIC_PID", label="Participant ID parameter")
    study_param = forms.CharField(
        max_length=40, initial="STUDY_ID", required=False, label="Study ID parameter"
    )
    session_param = forms.CharField(
        max_length=40, initial="SESSION_ID", required=False, label="Session ID parameter"
    )
    hypotheses = forms.ChoiceField(
        choices=Study.Hypotheses.choices,
        initial=Study.Hypotheses.OFF,
        label="Stated hypotheses before each test",
    )
    same_instances = forms.BooleanField(
        required=False, label="Everyone plays the same instance of each puzzle"
    )

    def clean_puzzles(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["puzzles"].splitlines() if line.strip()]

    def clean_attention_checks(self) -> list[dict[str, Any]]:
        checks = []
        for n, line in enumerate(self.cleaned_data.get("attention_checks", "").splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split("|")]
            if len(parts) != 3 or not parts[0].isdigit():
                raise forms.ValidationError(
                    f"line {n}: write 'after puzzle | question | answer', e.g. '1 | Type the word blue | blue'"
                )
            checks.append({"after": int(parts[0]), "question": parts[1], "answer": parts[2]})
        return checks

    def design(self) -> studies.StudyDesign:
        data = self.cleaned_data
        return studies.StudyDesign(
            title=data["title"],
            slug=data["slug"] or "",
            consent_text=data["consent_text"],
            puzzles=data["puzzles"],
            order=data["order"],
            attention_checks=data["attention_checks"],
            time_limit_s=data["time_limit_s"],
            max_tests=data["max_tests"],
            max_duration_min=data["max_duration_min"],
            completion_code=data["completion_code"],
            return_url=data["return_url"],
            pid_param=data["pid_param"],
            study_param=data["study_param"],
            session_param=data["session_param"],
            hypotheses=data["hypotheses"],
            same_instances=data["same_instances"],
        )


@researcher_required
@require_http_methods(["GET", "POST"])
def studies_page(request: HttpRequest) -> HttpResponse:
    form = StudyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            study = studies.study_create(design=form.design(), created_by=request.user)
        except studies.StudyError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return redirect("research_study", slug=study.slug)
    rows = [(study, studies.study_progress(study=study)) for study in Study.objects.all()[:200]]
    published = PuzzleVariant.objects.filter(published=True).order_by("slug").values_list("slug", flat=True)
    return render(
        request,
        "research/studies.html",
        {"form": form, "rows": rows, "published": list(published)},
        status=400 if form.errors else 200,
    )


def join_link(request: HttpRequest, study: Study) -> str:
    """The link to give the recruiting site, with Prolific's placeholders for the IDs."""
    params = [
        f"{name}={{{{%{name}%}}}}"
        for name in (study.pid_param, study.study_param, study.session_param)
        if name
    ]
    return request.build_absolute_uri(reverse("study_join", args=[study.slug])) + "?" + "&".join(params)


@researcher_required
@require_http_methods(["GET", "POST"])
def study_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The study's progress, join link, data and design. POST ``find``: a participant looked up by
    their panel ID (a withdrawal request, a bonus), by POST so the ID stays out of the access logs."""
    study = get_object_or_404(Study, slug=slug)
    found: dict[str, Any] | None = None
    if request.method == "POST":
        raw = (request.POST.get("find") or "").strip()
        participant = studies.participant_find(study=study, ids=studies.PanelIds(pid=raw)) if raw else None
        found = {
            "searched": True,
            "participant": studies.participant_summary(participant) if participant else None,
        }
    return render(
        request,
        "research/study.html",
        {
            "study": study,
            "design": studies.study_design(study=study),
            "progress": studies.study_progress(study=study),
            "join_link": join_link(request, study),
            "formats": ("jsonl", "csv", "parquet"),
            "found": found,
        },
    )


@researcher_required
@require_POST
def study_close_view(request: HttpRequest, slug: str) -> HttpResponse:
    studies.study_close(study=get_object_or_404(Study, slug=slug))
    return redirect("research_study", slug=slug)
