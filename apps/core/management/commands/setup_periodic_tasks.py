from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from apps.core.periodic import PERIODIC_TASKS


class Command(BaseCommand):
    help = "Create or update the periodic tasks (django-celery-beat) declared in apps.core.periodic."

    @transaction.atomic
    def handle(self, *args, **options):
        for spec in PERIODIC_TASKS:
            defaults = {"task": spec["task"], "enabled": True, "interval": None, "crontab": None}
            if "every_seconds" in spec:
                defaults["interval"], _ = IntervalSchedule.objects.get_or_create(
                    every=spec["every_seconds"], period=IntervalSchedule.SECONDS
                )
            else:
                minute, hour = spec["crontab"]
                defaults["crontab"], _ = CrontabSchedule.objects.get_or_create(
                    minute=minute, hour=hour, day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
                )
            task, created = PeriodicTask.objects.update_or_create(name=spec["name"], defaults=defaults)
            if spec.get("run_at_start") and task.last_run_at is None and task.start_time is None:
                # django-celery-beat runs a never-run task with a start time as soon as beat starts.
                PeriodicTask.objects.filter(pk=task.pk).update(start_time=timezone.now())
            if options.get("verbosity", 1) >= 1:
                self.stdout.write(f"{'created' if created else 'updated'}: {spec['name']} -> {spec['task']}")
