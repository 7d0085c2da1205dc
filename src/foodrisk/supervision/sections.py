"""The "监管措施" (supervision measures) section of the enterprise profile."""

from django.urls import reverse

from .models import RepairCase, Task
from .services.profiles import measures_for


def measures_section(enterprise, request):
    user = request.user
    if not user.has_perm("supervision.view_task"):
        return None
    info = measures_for(enterprise)
    if info is None:
        return None
    tasks = list(Task.objects.restrict(user, "view").filter(enterprise=enterprise)
                 .select_related("assignee").order_by("-created_at")[:10])
    repairs = []
    if user.has_perm("supervision.view_repaircase"):
        repairs = list(RepairCase.objects.restrict(user, "view").filter(enterprise=enterprise)[:5])
    return {
        "template": "supervision/profile_measures.html", "info": info, "tasks": tasks, "repairs": repairs,
        "open_tasks": sum(1 for t in tasks if t.is_open),
        "add_task_url": (f"{reverse('supervision:task_add')}?enterprise={enterprise.pk}"
                         if user.has_perm("supervision.add_task") else ""),
        "add_repair_url": (f"{reverse('supervision:repaircase_add')}?enterprise={enterprise.pk}"
                           if user.has_perm("supervision.add_repaircase") else ""),
    }
