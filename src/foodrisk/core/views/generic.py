"""List / detail / edit / delete views every app reuses.

Permission and scope live in one place: the queryset is `Model.objects.restrict(user, action)`, so an
object outside the user's region is a 404, a missing permission a 403, and writes go through services.
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.forms import ModelChoiceField, ModelMultipleChoiceField
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.encoding import force_str
from django.utils.translation import gettext as _
from django.views import generic
from django_filters.views import FilterView
from django_tables2 import RequestConfig, SingleTableMixin

from ..crypto import mask
from ..paginators import CachedCountPaginator
from ..services import audit, objects, preferences
from ..validators import MAX_ID, is_digits
from ..widgets import bootstrap


def url_name(model, suffix):
    return f"{model._meta.app_label}:{model._meta.model_name}_{suffix}"


def restrict_choices(form, user):
    """Limit every related-object choice to what the user may see (no picking another region's object)."""
    for field in form.fields.values():
        if isinstance(field, (ModelChoiceField, ModelMultipleChoiceField)):
            qs = field.queryset
            if hasattr(qs, "restrict"):
                field.queryset = qs.restrict(user, "view") if _has_view(user, qs.model) else qs.in_scope(user)
    return form


def _has_view(user, model):
    return user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")


class ScopedMixin(LoginRequiredMixin):
    model = None
    action = "view"

    def permission_name(self):
        opts = self.model._meta
        return f"{opts.app_label}.{self.action}_{opts.model_name}"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not self.has_permission():
            audit.record("access.denied", details={"permission": self.permission_name(), "path": request.path},
                         object_type=f"{self.model._meta.app_label}.{self.model._meta.model_name}")
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def has_permission(self):
        return self.request.user.has_perm(self.permission_name())

    def get_queryset(self):
        return self.model.objects.restrict(self.request.user, self.action)

    def get_object(self, queryset=None):
        try:
            if is_digits(self.kwargs.get(self.pk_url_kwarg, "")) and int(self.kwargs[self.pk_url_kwarg]) > MAX_ID:
                raise Http404  # names nothing; SQLite cannot even take it
            return super().get_object(queryset)
        except Http404:
            note_out_of_scope(self.request, self.model, self.kwargs.get(self.pk_url_kwarg))
            raise

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        opts = self.model._meta
        user = self.request.user
        ctx.update(
            opts=opts,
            verbose_name=opts.verbose_name,
            verbose_name_plural=getattr(self, "heading", None) or opts.verbose_name_plural,  # a list's own title
            can_add=user.has_perm(f"{opts.app_label}.add_{opts.model_name}"),
            can_change=user.has_perm(f"{opts.app_label}.change_{opts.model_name}"),
            can_delete=user.has_perm(f"{opts.app_label}.delete_{opts.model_name}"),
            list_url=_safe_reverse(url_name(self.model, "list")),
            add_url=_safe_reverse(url_name(self.model, "add")),
        )
        return ctx


def note_out_of_scope(request, model, pk):
    """A 404 for an object that exists outside the user's scope or permission is an attempt worth recording."""
    try:  # a key that cannot be one of the model's (`/api/enterprises/abc/`) names no object at all
        pk = model._meta.pk.to_python(pk)
    except ValidationError:
        return
    if pk is None or (isinstance(pk, int) and not 0 < pk <= MAX_ID) or not model._default_manager.filter(pk=pk).exists():
        return
    audit.record("access.out_of_scope", object_type=f"{model._meta.app_label}.{model._meta.model_name}",
                 object_id=str(pk), details={"path": request.path, "method": request.method})


def _safe_reverse(name, *args):
    from django.urls import NoReverseMatch

    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


class ObjectListView(ScopedMixin, SingleTableMixin, FilterView):
    template_name = "generic/object_list.html"
    # The table paginates (one COUNT, one page query); ListView's own pagination would COUNT the rows again.
    paginate_by = None
    table_pagination = {"per_page": 25}
    paginator_class = CachedCountPaginator
    export_formats = ("xlsx", "csv")

    def get_template_names(self):
        names = [f"{self.model._meta.app_label}/{self.model._meta.model_name}_list.html", self.template_name]
        if self.request.htmx and not self.request.htmx.boosted:
            return [f"{n}#results" for n in names]
        return names

    def get_filterset(self, filterset_class):
        filterset = super().get_filterset(filterset_class)
        filterset.form.compact = True
        bootstrap(restrict_choices(filterset.form, self.request.user))
        return filterset

    NOT_FILTERS = {"page", "sort", "per_page", "_export"}
    # The permission that lets a user ask for the table's `sensitive_columns` in clear (with a second
    # person's approval); "" = the list has no sensitive columns.
    sensitive_permission = ""

    # Columns a person may choose to see (a small menu on the page, kept per person: core.services.preferences).
    # () = no menu, the table shows its columns. Until he chooses, default_columns() (e.g. his role's) are
    # shown; fixed_columns() always (e.g. the checkboxes of a bulk action). Exports keep every column.
    choosable_columns = ()

    def default_columns(self):
        return list(self.choosable_columns)

    def fixed_columns(self):
        return ()

    def columns_key(self):
        """The list whose choice this is: the model and the table (the queues of one table share it)."""
        return f"{self.model._meta.label_lower}.{self.get_table_class().__name__}"[:100]

    def shown_columns(self):
        chosen = preferences.chosen_columns(self.request.user, self.columns_key())
        chosen = [c for c in chosen or () if c in self.choosable_columns]  # columns since removed are dropped
        return chosen or list(self.default_columns())

    def get_table_kwargs(self):
        kwargs = super().get_table_kwargs()
        if self.choosable_columns:
            shown = {*self.fixed_columns(), *self.shown_columns()}
            kwargs["exclude"] = tuple(c for c in self.get_table_class().base_columns if c not in shown)
        return kwargs

    def column_menu(self):
        """(name, header, shown) of each choosable column, for the page's menu."""
        table = self.get_table_class()(self.model.objects.none())
        shown = set(self.shown_columns())
        return [(name, table.columns[name].header, name in shown) for name in self.choosable_columns
                if name in table.columns]

    def post(self, request, *args, **kwargs):
        """The column menu: keep the ticked columns as the person's choice (or forget it: back to the default)."""
        if not self.choosable_columns:
            return self.http_method_not_allowed(request, *args, **kwargs)
        columns = None if "reset" in request.POST else request.POST.getlist("columns")
        try:
            preferences.choose_columns(request.user, self.columns_key(), columns, allowed=self.choosable_columns)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        return redirect(request.get_full_path())

    def get(self, request, *args, **kwargs):
        export = request.GET.get("_export")
        if export in self.export_formats:  # every export goes through the one export path (confirm, approve…)
            return redirect(self.export_url(export))
        filters = {k: v for k, v in request.GET.items() if k not in self.NOT_FILTERS and v}
        if filters:  # a search or filtered query over the archive is a key operation (who looked for what)
            audit.record("query", object_type=f"{self.model._meta.app_label}.{self.model._meta.model_name}",
                         details={"filters": filters})
        return super().get(request, *args, **kwargs)

    def export_url(self, fmt):
        query = self.request.GET.copy()
        query.pop("_export", None)
        query.pop("page", None)
        query["source"], query["format"] = self.request.resolver_match.view_name, fmt
        return f"{reverse('core:export_new')}?{query.urlencode()}"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        if self.request.user.has_perm("core.export_data") and self.request.resolver_match:
            ctx["export_urls"] = {fmt: self.export_url(fmt) for fmt in self.export_formats}
        if self.choosable_columns:
            ctx["column_menu"] = self.column_menu()
        return ctx

    # --- the export path (core.services.exports) builds files from these ---------------------------------
    def export_title(self):
        return getattr(self, "heading", None) or self.model._meta.verbose_name_plural

    def export_queryset(self):
        """The rows of an export: the list's queryset through its filters. A filter the list does not know or
        a value it refuses is a ValidationError, never the whole scope — the page ignores such a filter and
        shows everything, which for a file means exporting far more than the user asked for (issue 12)."""
        filterset = self.get_filterset(self.get_filterset_class())
        order_by = getattr(self.get_table_class(), "_meta", None)
        known = set(filterset.form.fields) | self.NOT_FILTERS | {getattr(order_by, "order_by_field", "sort")}
        unknown = sorted(key for key in self.request.GET if key not in known)
        if unknown:
            raise ValidationError({"filters": _("This list has no filter %(names)s.") % {"names": "、".join(unknown)}})
        if not filterset.is_bound:
            return self.get_queryset()
        if not filterset.is_valid():
            form = filterset.form
            raise ValidationError({"filters": [
                f"{form.fields[name].label if name in form.fields else name}：{message}"
                for name, errors in form.errors.items() for message in errors]})
        return filterset.qs

    def export_rows(self, queryset, sensitive):
        """Header then one row per object: the table's columns; its `sensitive_columns` masked unless the
        export was approved with sensitive fields."""
        table = self.get_table_class()(queryset)
        RequestConfig(self.request, paginate=False).configure(table)  # the page's ?sort= orders the file too
        hidden = () if sensitive else getattr(table, "sensitive_columns", ())
        columns = [c for c in table.columns.iterall() if not c.column.exclude_from_export]
        yield [str(c.header) for c in columns]
        for row in table.rows:
            values = []
            for c in columns:
                value = force_str(row.get_cell_value(c.name), strings_only=True)
                values.append(mask(str(value)) if c.name in hidden and value else value)
            yield values


class ObjectDetailView(ScopedMixin, generic.DetailView):
    template_name = "generic/object_detail.html"
    audit_view = False  # True for sensitive objects (an enterprise profile): every view is recorded

    def get_template_names(self):
        # a view naming its own template gets it (a set's preview page, not the set's <model>_detail.html)
        if self.template_name != ObjectDetailView.template_name:
            return [self.template_name]
        return [f"{self.model._meta.app_label}/{self.model._meta.model_name}_detail.html", self.template_name]

    def get_object(self, queryset=None):
        obj = super().get_object(queryset)
        if self.audit_view:
            audit.record("view", obj)
        return obj

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        obj = self.object
        ctx["fields"] = [
            (f.verbose_name, _display(obj, f))
            for f in obj._meta.concrete_fields
            if not f.primary_key or not isinstance(f, models.AutoField | models.BigAutoField)
            if f.name not in getattr(self, "hidden_fields", ())
        ]
        ctx["edit_url"] = _safe_reverse(url_name(self.model, "edit"), obj.pk)
        ctx["delete_url"] = _safe_reverse(url_name(self.model, "delete"), obj.pk)
        return ctx


def _display(obj, field):
    shown = getattr(obj, f"display_{field.name}", None)  # a model's own words for a code or a list of codes
    if callable(shown):
        return shown()
    if field.choices:
        return getattr(obj, f"get_{field.name}_display")()
    if isinstance(field, models.ForeignKey):
        return getattr(obj, field.name)
    return getattr(obj, field.name)


class ObjectEditView(ScopedMixin, generic.UpdateView):
    """Create (no pk in the URL) or edit. Subclasses override `save(form)` to call their service."""

    template_name = "generic/object_form.html"

    @property
    def action(self):
        return "change" if "pk" in self.kwargs else "add"

    def get_object(self, queryset=None):
        if "pk" not in self.kwargs:
            return None
        return super().get_object(queryset)

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        return bootstrap(restrict_choices(form, self.request.user))

    def save(self, form):
        return objects.save_form(form, user=self.request.user)

    def form_valid(self, form):
        from django.core.exceptions import ValidationError

        from ..forms import add_service_errors

        try:
            self.object = self.save(form)
        except ValidationError as exc:  # what the service's own checks refuse (e.g. a key saved meanwhile)
            add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Saved."))
        return redirect(self.get_success_url())

    def get_success_url(self):
        return self.object.get_absolute_url()


class ObjectDeleteView(ScopedMixin, generic.DeleteView):
    """Subclasses with a delete service override `delete_object`, and `refused` / `refusal_message` when it
    refuses with an exception of its own. (`delete` is DeleteView's HTTP DELETE handler, hence the name.)"""

    template_name = "generic/object_confirm_delete.html"
    action = "delete"
    refused = (models.ProtectedError,)  # what delete_object raises when the object may not be deleted

    def delete_object(self, obj):
        objects.delete_instance(obj, user=self.request.user)

    def refusal_message(self, exc):
        return _("This object is still referenced by other records and cannot be deleted.")

    def form_valid(self, form):
        try:
            self.delete_object(self.object)
        except self.refused as exc:
            messages.error(self.request, self.refusal_message(exc))
            return redirect(self.object.get_absolute_url())
        messages.success(self.request, _("Deleted."))
        return redirect(url_name(self.model, "list"))


def crud_urls(model, *, list_view=None, detail_view=None, edit_view=None, delete_view=None, pk="<int:pk>",
              prefix=None):
    """URL patterns named <model>_list/_detail/_add/_edit/_delete for the views given."""
    name = model._meta.model_name
    prefix = prefix or f"{name}s"
    patterns = []
    if list_view:
        patterns.append(path(f"{prefix}/", list_view.as_view(), name=f"{name}_list"))
    if edit_view:
        patterns.append(path(f"{prefix}/add/", edit_view.as_view(), name=f"{name}_add"))
    if detail_view:
        patterns.append(path(f"{prefix}/{pk}/", detail_view.as_view(), name=f"{name}_detail"))
    if edit_view:
        patterns.append(path(f"{prefix}/{pk}/edit/", edit_view.as_view(), name=f"{name}_edit"))
    if delete_view:
        patterns.append(path(f"{prefix}/{pk}/delete/", delete_view.as_view(), name=f"{name}_delete"))
    return patterns


class PermissionRequiredView(LoginRequiredMixin, generic.TemplateView):
    permission = ""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and self.permission and not request.user.has_perm(self.permission):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)
