"""Benchmark (not a test): kill Celery workers again and again during a run of checks; count what is lost.

    .venv/bin/python benchmarks/checklist_kill.py                 # 2 000 batches, 20 kills, 2 workers
    .venv/bin/python benchmarks/checklist_kill.py --n 500 --kills 5

Needs Redis (REDIS_URL or CELERY_BROKER_URL) and PostgreSQL (DATABASE_URL, or the embedded one). It creates
its own database, `lims_bench_kill`, fills N realistic batches (the sweep benchmark's filler), writes one
outbox row per batch (as a change to every batch would), queues the checks through the outbox on a queue of
its own and starts W real workers (`celery -A lims worker`, acks_late, task time limit 600 s, so a killed
worker's messages come back from Redis only after the 20-minute visibility timeout). Every --kill-every
seconds one worker is SIGKILLed (with its pool child) and started again; the outbox drain runs every
--drain-every seconds with --requeue-after, as celery beat runs it in served mode. After the last kill it
waits until every batch has a current report and the outbox is empty, then prints:

  lost         batches without a current report at the end (must be 0)
  duplicated   batches with more than one report (must be 0: nothing changed between checks)
  recovered    seconds from the last kill until every batch had its report and the outbox was empty
"""

import argparse
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from benchmarks import database  # noqa: E402  (needs the project on sys.path)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lims.settings")

BENCH_DATABASE = "lims_bench_kill"


class Worker:
    def __init__(self, queue: str, broker: str, database_url: str, log: Path):
        env = {**os.environ, "DATABASE_URL": database_url, "CELERY_BROKER_URL": broker, "PYTHONUNBUFFERED": "1"}
        self.log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "lims", "worker", "-Q", queue, "--concurrency=1",
             "--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-n", f"{queue}-{uuid.uuid4().hex[:6]}@%h"],
            cwd=BASE_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def _publish_to(queue: str, broker: str) -> None:
    from lims.celery import app

    app.conf.update(broker_url=broker, task_always_eager=False, task_default_queue=queue)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="number of batches (default 2000)")
    parser.add_argument("--kills", type=int, default=20, help="worker kills (default 20)")
    parser.add_argument("--workers", type=int, default=2, help="workers running at once (default 2)")
    parser.add_argument("--kill-every", type=float, default=3.0, help="seconds between kills (default 3)")
    parser.add_argument("--drain-every", type=float, default=15.0, help="seconds between drains (default 15)")
    parser.add_argument("--requeue-after", type=float, default=60.0, help="re-queue unfinished claims after (s)")
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DATABASE} database afterwards")
    args = parser.parse_args()
    broker = os.environ.get("REDIS_URL") or os.environ.get("CELERY_BROKER_URL")
    if not broker:
        parser.error("set REDIS_URL (or CELERY_BROKER_URL) to the Redis the workers use")

    server = database.server()
    database_url = database.create_database(server, BENCH_DATABASE, drop=True)
    os.environ["DATABASE_URL"] = database_url
    os.environ.pop("CELERY_BROKER_URL", None)
    queue = f"checklist-kill-{uuid.uuid4().hex[:8]}"
    logs = BASE_DIR / "var" / "checklist-kill"
    logs.mkdir(parents=True, exist_ok=True)
    workers: list[Worker] = []
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection
        from django.db.models import Count

        from batches.checklist.outbox import dispatch_suspended, outbox_dispatch
        from batches.models import ChecklistReport
        from batches.models.checklist import ChecklistOutbox, CurrentChecklistReport
        from benchmarks.checklist_sweep import Filler

        call_command("migrate", verbosity=0)
        with dispatch_suspended():
            filler = Filler(args.n)
            ids = filler.batches(filler.cells(max(10, args.n // 100)), filler.primings())
        # Suspended: this connection's own after-commit dispatch would run every check in-process.
        with dispatch_suspended(), connection.cursor() as cursor:
            cursor.execute("TRUNCATE batches_checklistoutbox")
            cursor.execute(
                "INSERT INTO batches_checklistoutbox (txid, backend_pid, subject_kind, subject_id, created_at) "
                "SELECT txid_current(), pg_backend_pid(), 'batch', id, now() FROM batches_secretomebatch"
            )
        print(f"filled        {len(ids):,} batches, one outbox row each")

        settings.CELERY_TASK_ALWAYS_EAGER = False
        _publish_to(queue, broker)
        workers = [Worker(queue, broker, database_url, logs / f"worker-{n}.log") for n in range(args.workers)]
        queued = outbox_dispatch(own_only=False, min_age_seconds=0)
        print(f"queued        {queued:,} checks on {queue} for {args.workers} workers")

        chooser = random.Random(7)
        last_drain = time.monotonic()
        last_kill = time.monotonic()
        drained = 0
        for kill in range(args.kills):
            time.sleep(args.kill_every)
            victim = chooser.randrange(len(workers))
            workers[victim].kill()
            workers[victim] = Worker(queue, broker, database_url, logs / f"worker-{victim}-{kill + 1}.log")
            last_kill = time.monotonic()
            if time.monotonic() - last_drain >= args.drain_every:
                drained += outbox_dispatch(own_only=False, min_age_seconds=0, requeue_after_seconds=args.requeue_after)
                last_drain = time.monotonic()
        print(f"killed        {args.kills} times, one every {args.kill_every:g} s")

        def done() -> bool:
            return not ChecklistOutbox.objects.exists() and CurrentChecklistReport.objects.filter(
                batch__isnull=False
            ).count() == len(ids)

        deadline = last_kill + 30 * 60
        while not done() and time.monotonic() < deadline:
            time.sleep(1)
            if time.monotonic() - last_drain >= args.drain_every:
                drained += outbox_dispatch(own_only=False, min_age_seconds=0, requeue_after_seconds=args.requeue_after)
                last_drain = time.monotonic()
        recovered = time.monotonic() - last_kill
        reported = set(CurrentChecklistReport.objects.filter(batch__isnull=False).values_list("batch_id", flat=True))
        lost = [pk for pk in ids if pk not in reported]
        duplicated = (
            ChecklistReport.objects.filter(batch__isnull=False)
            .values("batch")
            .annotate(n=Count("pk"))
            .filter(n__gt=1)
            .count()
        )
        every = f"every {args.drain_every:g} s, after {args.requeue_after:g} s"
        print(f"re-queued     {drained:,} checks by the drain ({every})")
        print(f"lost          {len(lost)}")
        print(f"duplicated    {duplicated}")
        print(f"recovered     {recovered:.0f} s after the last kill")
        print(f"outbox left   {ChecklistOutbox.objects.count()}")
    finally:
        for worker in workers:
            worker.stop()
        try:
            import redis

            redis.Redis.from_url(broker).delete(queue)
        except Exception as exc:  # cleanup only: report and go on
            print(f"could not delete the queue {queue}: {exc}")
        if not args.keep:
            from django.db import connections

            connections.close_all()
            database.drop_database(server, BENCH_DATABASE)


if __name__ == "__main__":
    main()
