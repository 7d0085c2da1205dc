from django.urls import path

from foodrisk.core.views.generic import crud_urls

from . import views
from .models import ConflictOfInterest, InspectorAbsence

app_name = "supervision"

urlpatterns = [
    path("", views.HomeRedirect.as_view(), name="home"),
    path("tasks/", views.TaskListView.as_view(), name="task_list"),
    path("tasks/mine/", views.MyTaskListView.as_view(), name="my_tasks"),
    path("tasks/add/", views.TaskCreateView.as_view(), name="task_add"),
    path("tasks/<int:pk>/", views.TaskDetailView.as_view(), name="task_detail"),
    path("tasks/<int:pk>/result/", views.TaskResultView.as_view(), name="task_result"),
    path("tasks/<int:pk>/<slug:op>/", views.TaskActionView.as_view(), name="task_action"),
    path("alerts/<int:alert_pk>/task/", views.AlertTaskView.as_view(), name="alert_task"),
    path("rectifications/", views.RectificationListView.as_view(), name="rectification_list"),
    path("plans/", views.PlanListView.as_view(), name="inspectionplan_list"),
    path("plans/items/", views.PlanItemListView.as_view(), name="planitem_list"),
    path("plans/add/", views.PlanCreateView.as_view(), name="inspectionplan_add"),
    path("plans/<int:pk>/", views.PlanDetailView.as_view(), name="inspectionplan_detail"),
    path("draws/", views.DrawListView.as_view(), name="randomdraw_list"),
    path("draws/add/", views.DrawCreateView.as_view(), name="randomdraw_add"),
    path("draws/<int:pk>/", views.DrawDetailView.as_view(), name="randomdraw_detail"),
    path("draws/<int:pk>/tasks/", views.DrawTasksView.as_view(), name="randomdraw_tasks"),
    path("repairs/", views.RepairListView.as_view(), name="repaircase_list"),
    path("repairs/add/", views.RepairApplyView.as_view(), name="repaircase_add"),
    path("repairs/<int:pk>/", views.RepairDetailView.as_view(), name="repaircase_detail"),
    path("repairs/<int:pk>/<slug:op>/", views.RepairActionView.as_view(), name="repaircase_action"),
    path("profiles/", views.ProfileListView.as_view(), name="supervisionprofile_list"),
    path("profiles/<int:pk>/", views.ProfileDetailView.as_view(), name="supervisionprofile_detail"),
    path("profiles/<int:pk>/activate/", views.ProfileActivateView.as_view(), name="supervisionprofile_activate"),
    path("checklists/", views.ChecklistListView.as_view(), name="checklisttemplate_list"),
    path("checklists/<int:pk>/", views.ChecklistDetailView.as_view(), name="checklisttemplate_detail"),
]
urlpatterns += crud_urls(ConflictOfInterest, prefix="conflicts", list_view=views.ConflictListView,
                         detail_view=views.ConflictDetailView, edit_view=views.ConflictEditView,
                         delete_view=views.ConflictDeleteView)
urlpatterns += crud_urls(InspectorAbsence, prefix="absences", list_view=views.AbsenceListView,
                         detail_view=views.AbsenceDetailView, edit_view=views.AbsenceEditView,
                         delete_view=views.AbsenceDeleteView)
