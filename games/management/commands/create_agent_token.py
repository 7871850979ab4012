"""python manage.py create_agent_token NAME [--research]: make an API token for an agent.

The token is printed once, as the last word of the output; only its SHA-256 is stored."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from games.api.auth import TokenNameTaken, agent_token_create


class Command(BaseCommand):
    help = "Create an API token for an external agent; prints the token as the last word."

    def add_arguments(self, parser):
        parser.add_argument("name", help="a unique name for the agent (its seats' handle)")
        parser.add_argument(
            "--research", action="store_true", help="may read every match in full, not only its own"
        )

    def handle(self, *args, name: str, research: bool, **options):
        name = name.strip()
        if not name or len(name) > 80:
            raise CommandError("NAME must be 1 to 80 characters")
        try:
            token, key = agent_token_create(name=name, can_read_research=research)
        except TokenNameTaken as exc:
            raise CommandError(str(exc)) from None
        scope = "research (all matches)" if research else "play (own seats)"
        self.stdout.write(
            f"Created token {token.name!r} (prefix {token.prefix}, {scope}). It is shown only once; "
            f"send it as 'Authorization: Bearer <token>'. Token: {key}"
        )
