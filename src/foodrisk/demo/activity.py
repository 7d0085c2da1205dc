"""A few weeks of use on the demo city (`foodrisk demo_data`, after the grades are published), so the 预警 and 监管
pages show the loop instead of empty lists. Everything goes through the services, as the demo account whose job it
is (demo_accounts: the district inspectors and handler of the city's first county), so the audit log names them:

supervision (the district inspector)
    the year's inspection plan of the district from the active supervision profile, a 双随机 draw of the current
    month in that plan with its tasks for both inspectors; the inspectors record the results of the first tasks
    (the highest risk ones): one non-compliant (a failed key item → rectification order), the others compliant,
    and start one more. The results are Inspection records (rescoring follows in the worker).
warnings
    the product's rules run on the district's enterprises (record-driven, the grade changes of the latest run, the
    time-based ones of the daily scan) and raise its warnings — among them the failed inspection above (the rest
    of the city is left to the reactions the import queued for the worker, and to the daily scan); then the
    inspector works the district's inbox: one warning reviewed, dispatched to the handler, handled and closed; one
    handled (awaiting close); one dispatched; one confirmed (awaiting dispatch); one dismissed with its reason; the
    rest stay open.

Deterministic for a seed (the draw's seed) and idempotent: a plan or draw already there is reused, results are
recorded only while none of the draw's tasks is done, the inbox is worked only while nobody has acted on the
district's warnings, and a warning's evidence raises nothing twice (its fingerprint)."""

import calendar
import datetime as dt
import time

from django.conf import settings
from django.utils import timezone, translation

INSPECTOR, SECOND_INSPECTOR, HANDLER = "inspector", "inspector2", "handler"
RESULTS = ("fail", "pass", "pass")  # the first tasks' results, in due order
FINDINGS = "冷藏柜温度超标（实测 9℃），部分预包装食品超过保质期仍在销售，从业人员健康证过期。"


def run(seed, write):
    """The demo activity; returns the counts it prints (None when the demo accounts are missing)."""
    from foodrisk.core.models import User

    t0 = time.perf_counter()
    people = {u.username: u for u in User.objects.filter(username__in=[INSPECTOR, SECOND_INSPECTOR, HANDLER],
                                                           is_active=True).select_related("organisation")}
    if len(people) < 3 or people[INSPECTOR].organisation is None:
        write("demo activity: skipped (run `foodrisk demo_accounts` first)")
        return None
    with translation.override(settings.LANGUAGE_CODE):  # names the services write (plan, draw, tasks) are data
        work = supervise(people, seed)
        raised = raise_warnings(people[INSPECTOR].organisation)
        states = work_inbox(people)
    write(f"demo activity: plan #{work['plan'].pk} ({work['plan'].enterprise_count} enterprises, "
          f"{work['plan'].planned_total} inspections planned), draw #{work['draw'].pk} ({work['tasks']} tasks), "
          f"results {work['results']} ({work['failed']} non-compliant, {work['rectifications']} rectification), "
          f"warnings raised {raised}, district inbox {states} in {time.perf_counter() - t0:.1f}s")
    return {**work, "raised": raised, "states": states}


def acting(user):
    from foodrisk.core import context

    return context.acting(user=user, request_id=f"demo-{user.username}")


# --------------------------------------------------------------------------------------------------
# supervision: plan → draw → tasks → results → rectification
# --------------------------------------------------------------------------------------------------
def draw_period(today):
    """The current month; in its last two weeks the next month too (a draw needs days left to be worked)."""
    start = today.replace(day=1)
    end = today.replace(day=calendar.monthrange(today.year, today.month)[1])
    if (end - today).days < 14:
        following = end + dt.timedelta(days=1)
        end = following.replace(day=calendar.monthrange(following.year, following.month)[1])
    return start, end


def draw_name(start, end):
    """What the inspector names the draw: its month(s) (the tasks' titles quote it)."""
    return f"{start:%Y-%m}" if (start.year, start.month) == (end.year, end.month) else f"{start:%Y-%m}–{end:%Y-%m}"


def supervise(people, seed):
    from foodrisk.supervision.choices import TaskStatus
    from foodrisk.supervision.models import InspectionPlan, RandomDraw, Task
    from foodrisk.supervision.services import draws, plans
    from foodrisk.supervision.services import tasks as task_services

    inspector = people[INSPECTOR]
    organisation = inspector.organisation
    today = timezone.localdate()
    with acting(inspector):
        year_start, year_end = dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)
        plan = (InspectionPlan.objects.filter(organisation=organisation, period_start=year_start,
                                              period_end=year_end).order_by("pk").first()
                or plans.create_plan(organisation, year_start, year_end, user=inspector))
        start, end = draw_period(today)
        draw = (RandomDraw.objects.filter(organisation=organisation, period_start=start, period_end=end)
                .order_by("pk").first()
                or draws.run_draw(organisation, user=inspector, seed=seed, plan=plan, period_start=start,
                                  period_end=end, create_tasks=True, name=draw_name(start, end)))
    tasks = Task.objects.filter(draw_item__draw=draw).select_related("enterprise", "organisation", "assignee",
                                                                      "second_assignee")
    work = {"plan": plan, "draw": draw, "tasks": tasks.count(), "results": 0, "failed": 0, "rectifications": 0}
    if not tasks.filter(status=TaskStatus.DONE).exists():
        todo = [t for t in tasks.filter(status=TaskStatus.ASSIGNED).order_by("due_on", "draw_item__position")
                if task_services.checklist_for(t) is not None]
        for task, result in zip(todo, RESULTS, strict=False):
            follow_up = record(task, result)
            work["results"] += 1
            work["failed"] += result == "fail"
            work["rectifications"] += follow_up is not None
        for task in todo[len(RESULTS):len(RESULTS) + 1]:  # the next one is under way
            with acting(task.assignee):
                task_services.start(task, user=task.assignee)
    else:
        done = tasks.filter(status=TaskStatus.DONE)
        work.update(results=done.count(), failed=done.filter(inspection__result="fail").count(),
                    rectifications=Task.objects.filter(parent__in=done).count())
    return work


def record(task, result):
    """The task's first inspector starts it and records a checklist result: a failed key item for "fail", all
    passed otherwise (a failed item orders the rectification). Returns the rectification task or None."""
    from foodrisk.supervision.services import tasks as task_services

    template = task_services.checklist_for(task)
    answers, failed = {}, False
    for item in template.items.order_by("pk"):
        fail = result == "fail" and item.key and not failed
        failed = failed or fail
        answers[str(item.pk)] = "fail" if fail else "pass"
    with acting(task.assignee):
        task_services.start(task, user=task.assignee)
        _task, _inspection, follow_up = task_services.record_result(
            task, user=task.assignee, answers=answers, findings=FINDINGS if failed else "")
    return follow_up


# --------------------------------------------------------------------------------------------------
# warnings: the rules raise them, the district works its inbox
# --------------------------------------------------------------------------------------------------
def raise_warnings(organisation):
    """The product's rules on the enterprises of the demo accounts' district, as the worker's reactions and the
    daily scan run them: record-driven rules, the grade changes of the latest run, the time-based rules. The rest
    of the city gets its warnings from the reactions the import queued (the worker) and the daily scan, as in real
    use; evidence seen here raises nothing twice there (its fingerprint). Returns the number of new warnings."""
    from foodrisk.alerts import services
    from foodrisk.alerts.models import Alert
    from foodrisk.core.querysets import region_prefix
    from foodrisk.enterprises.models import Enterprise
    from foodrisk.scoring.choices import RunStatus
    from foodrisk.scoring.models import GradeChange, ScoringRun

    ids = set(Enterprise.objects.filter(region__code__startswith=region_prefix(organisation.region_id))
              .values_list("pk", flat=True))
    before = Alert.objects.count()
    with services.batched_notifications():
        services.evaluate_records(ids)
        run = ScoringRun.objects.filter(status=RunStatus.SUCCEEDED).order_by("-pk").first()
        if run is not None:
            changes = list(GradeChange.objects.filter(run=run, enterprise_id__in=ids).order_by("pk")
                           .values("enterprise_id", "old_grade", "new_grade", "score", "reasons"))
            services.evaluate_grade_changes(changes, run=run)
        services.evaluate_time_rules(enterprise_ids=ids)
    return Alert.objects.count() - before


# (step, note) per warning, highest level first; the rest of the inbox stays open
WORKFLOW = [
    ("closed", "情况属实，请处置人员现场核查并督促整改。"),
    ("in_hand", "请于期限内现场核查。"),
    ("dispatched", "请尽快核实处置。"),
    ("confirmed", "经核实情况属实，待派发。"),
    ("dismissed", "经核实为历史数据重复上报，企业已于上月完成整改，不再处置。"),
]


def work_inbox(people):
    """The district's warnings as its people would have worked them. Returns {status: count} of the district."""
    from collections import Counter

    from foodrisk.alerts import services
    from foodrisk.alerts.choices import LEVEL_ORDER, AlertStatus, Outcome
    from foodrisk.alerts.models import Alert, AlertEvent
    from foodrisk.supervision.models import Task

    inspector, handler = people[INSPECTOR], people[HANDLER]
    organisation = inspector.organisation
    district = Alert.objects.filter(organisation=organisation)
    if not AlertEvent.objects.filter(alert__organisation=organisation, user__isnull=False).exists():
        # warnings about enterprises with open tasks (the rectification ordered above) wait: nothing is closed
        # while its rectification is pending
        busy = set(Task.objects.open().values_list("enterprise_id", flat=True))
        inbox = sorted(Alert.objects.restrict(inspector, "review").filter(organisation=organisation,
                                                                           status=AlertStatus.RAISED)
                       .select_related("enterprise", "rule"),
                       key=lambda a: (a.enterprise_id in busy, LEVEL_ORDER.get(a.level, 9), a.pk))
        steps = WORKFLOW[:max(1, len(inbox) - 1)]  # at least one stays open
        for alert, (goal, note) in zip(inbox, steps, strict=False):
            with acting(inspector):
                if goal == "dismissed":
                    services.review(alert, user=inspector, confirm=False, note=note)
                    continue
                alert = services.review(alert, user=inspector, confirm=True, note=note)
                if goal == "confirmed":
                    continue
                alert = services.dispatch(alert, user=inspector, organisation=organisation, assignee=handler,
                                          instructions=note)
            if goal == "dispatched":
                continue
            with acting(handler):
                alert = services.handle(alert, user=handler, feedback="已到现场核查，企业负责人已签收整改通知，"
                                                                       "问题已当场整改，复查照片已存档。")
            if goal == "closed":
                with acting(inspector):
                    services.close(alert, user=inspector, outcome=Outcome.RECTIFIED,
                                   note="复查合格，整改到位，予以办结。")
    return dict(sorted(Counter(district.values_list("status", flat=True)).items()))
