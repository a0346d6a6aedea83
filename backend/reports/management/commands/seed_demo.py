from django.core.management.base import BaseCommand, CommandError

from backend.reports import demo, services


class Command(BaseCommand):
    help = "Load the demo data set (DEMO_DATA.md) into an empty database."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--force", action="store_true", help="Load even if the database holds other data.")

    def handle(self, *args, force: bool = False, **options) -> None:
        if demo.is_seeded() and not force:
            self.stdout.write("Demo data is already loaded.")
            return
        if demo.holds_other_data() and not force:
            raise CommandError(
                "This database already holds other data; seed_demo only fills an empty one. "
                "Run with --force to add the demo set anyway."
            )
        demo.seed()
        # What the scheduled tasks would have done by now, so the dashboard opens with figures:
        # the roll-ups, this month's forecast snapshot and the alerts (Wuhan Motors Ltd falls).
        services.rollup_refresh()
        services.forecast_snapshot_take()
        alerts = services.alerts_falling_accounts() + services.alerts_stalled_deals()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded: 7 people, 3 products, 4 customers, 3 open orders, {len(alerts)} alerts."
            )
        )
