from django.core.management.base import BaseCommand, CommandError

from accounts.services import AccountError, create_staff
from departments.models import Department


class Command(BaseCommand):
    help = "Create or update a staff user with a membership of a department and its roles."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--department", required=True, help="department code, e.g. 330106")
        parser.add_argument("--role", required=True, help="comma-separated roles")
        parser.add_argument("--real-name", default="")

    def handle(self, *args, **options):
        department = Department.objects.filter(code=options["department"]).first()
        if department is None:
            raise CommandError(f"unknown department {options['department']}; run load_divisions")
        try:
            user = create_staff(
                username=options["username"],
                password=options["password"],
                department=department,
                roles=options["role"].split(","),
                real_name=options["real_name"],
            )
        except AccountError as exc:
            raise CommandError(str(exc)) from exc
        roles = ",".join(user.memberships.get(department=department).roles)
        self.stdout.write(f"{user.username} @ {department.code} {department.name}: {roles}")
