"""`make run`: migrate, seed the demo leader once, then the web server and the queue clusters together."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.urls import NoReverseMatch, reverse

from leaders.demo import DEMO_PASSWORD, DEMO_TEAM, STAFF_USERNAME, demo_leader_ensure


def url_for(name: str, urlconf: str, base: str) -> str | None:
    try:
        return base + reverse(name, urlconf=urlconf)
    except NoReverseMatch:
        return None


class Command(BaseCommand):
    help = "Run the whole platform for development: web server and queue worker; Ctrl-C stops both."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--members", type=int, default=3000, help="demo members seeded on first run")

    def handle(self, *args, **options):
        port = options["port"]
        if not os.environ.get("PUBLIC_BASE_URL"):
            # Links (signup, invitations) and the simulator's signatures follow the port served, here and in
            # the children, when --port differs from PORT.
            os.environ["PUBLIC_BASE_URL"] = settings.PUBLIC_BASE_URL = f"http://localhost:{port}"
        self.stdout.write("migrating the public schema, the leader template and every leader…")
        call_command("platform_migrate", verbosity=0)
        leader, _ = demo_leader_ensure()
        call_command("seed_demo", members=options["members"], if_empty=True, verbosity=0)

        public = f"http://localhost:{port}"
        domain = leader.get_primary_domain()
        leader_base = f"http://{domain.domain if domain else leader.slug + '.localhost'}:{port}"
        lines = [
            "",
            "community is running. Open:",
            f"  staff admin       {public}/admin/            login {STAFF_USERNAME} / {DEMO_PASSWORD}",
            f"  demo console      {leader_base}/            logins "
            + ", ".join(username for username, _ in DEMO_TEAM)
            + f" / {DEMO_PASSWORD}",
        ]
        for label, name, urlconf, base in (
            ("signup page", "signup_demo", settings.ROOT_URLCONF, leader_base),
            ("phone simulator", "simulator", settings.PUBLIC_SCHEMA_URLCONF, public),
            ("API docs", "api_docs", settings.ROOT_URLCONF, leader_base),
        ):
            url = url_for(name, urlconf, base)
            if url:
                lines.append(f"  {label:<17} {url}")
        lines += [f"  demo leader number {leader.phone_number}", "Ctrl-C stops everything.", ""]

        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        # Ctrl-C, and SIGTERM from a service manager or `timeout`, stop the children rather than leave them
        # running. Both handlers are set explicitly: a shell starts a background job with SIGINT ignored,
        # which Python then leaves ignored, and so would every child (an ignored signal stays ignored across
        # exec; a handled one is reset, so the children start with Ctrl-C working).
        signal.signal(signal.SIGINT, _interrupt)
        signal.signal(signal.SIGTERM, _interrupt)
        # Each child leads a process group of its own, so stopping it reaches the processes it starts too
        # (the queue clusters' workers), and a child that does not stop in time is killed with all of them.
        # Ctrl-C at the terminal reaches only this process; it stops the groups.
        children: list[subprocess.Popen] = []
        try:
            children.append(
                subprocess.Popen([*manage, "runserver", f"0.0.0.0:{port}", "--noreload"], process_group=0)
            )
            children.append(subprocess.Popen([*manage, "qcluster"], process_group=0))
            # Broadcasts have a cluster of their own, so a big one never delays replies (docs/broadcasts.md).
            broadcasts_env = {**os.environ, "Q_CLUSTER_NAME": settings.BROADCAST_CLUSTER}
            children.append(subprocess.Popen([*manage, "qcluster"], env=broadcasts_env, process_group=0))
            # And webhooks, so a leader's slow receiver never holds the workers that send replies.
            if settings.WEBHOOK_CLUSTER:
                webhooks_env = {**os.environ, "Q_CLUSTER_NAME": settings.WEBHOOK_CLUSTER}
                children.append(subprocess.Popen([*manage, "qcluster"], env=webhooks_env, process_group=0))
            # And triage, whose CPU-heavy sorting of inbound texts never holds the others' workers; the
            # members' yes and no answers to events are read there too (settings.ANSWERS_CLUSTER).
            started = {settings.BROADCAST_CLUSTER, settings.WEBHOOK_CLUSTER}
            for name in (settings.TRIAGE_CLUSTER, getattr(settings, "ANSWERS_CLUSTER", "")):
                if name and name not in started:
                    started.add(name)
                    env = {**os.environ, "Q_CLUSTER_NAME": name}
                    children.append(subprocess.Popen([*manage, "qcluster"], env=env, process_group=0))
            time.sleep(1.5)
            self.stdout.write("\n".join(lines))
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            self.stderr.write("a process stopped; stopping the others")
        except KeyboardInterrupt:
            self.stdout.write("\nstopping…")
        finally:
            for child in children:
                _signal_group(child, signal.SIGINT)
            deadline = time.monotonic() + 10
            for child in children:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                _signal_group(child, signal.SIGKILL)  # whatever of its group is left
        self.stdout.write("stopped.")


def _signal_group(child: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # else the whole group is gone
        os.killpg(child.pid, signum)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt
