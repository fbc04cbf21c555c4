import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from apps.core.periodic import PERIODIC_TASKS
from pms.celery import app


@pytest.mark.django_db
def test_setup_periodic_tasks_is_idempotent_and_names_real_tasks():
    call_command("setup_periodic_tasks")
    call_command("setup_periodic_tasks")
    names = {spec["name"] for spec in PERIODIC_TASKS}
    assert set(PeriodicTask.objects.values_list("name", flat=True)) >= names
    assert PeriodicTask.objects.filter(name__in=names).count() == len(names)
    app.loader.import_default_modules()
    registered = set(app.tasks)
    for task in PeriodicTask.objects.filter(name__in=names):
        assert task.task in registered, f"{task.name}: {task.task} is not a registered Celery task"
        assert task.enabled and (task.interval or task.crontab)
    hold = PeriodicTask.objects.get(task="bookings.expire_holds")
    assert (hold.interval.every, hold.interval.period) == (60, "seconds")


# seed_demo: tests/demo/test_demo_data.py (seeds on a live server, so the simulators answer).
