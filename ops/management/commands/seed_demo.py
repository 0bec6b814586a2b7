from django.core.management.base import BaseCommand, CommandError

from departments.models import Department
from ops.demo import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Seed demo stations, staff at every level, consumers, businesses and cases; idempotent."

    def handle(self, *args, **options):
        if not Department.objects.filter(code="330106").exists():
            raise CommandError("the division tree is not loaded: run `manage.py load_divisions`")
        logins = seed_demo()
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for login in logins:
            self.stdout.write(f"  {login.username:<16} {login.who}")
