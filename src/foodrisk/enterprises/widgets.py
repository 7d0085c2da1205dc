from django import forms

from foodrisk.core.validators import as_id


class EnterprisePicker(forms.Widget):
    """Pick an enterprise by typing a name, USCC, pinyin initials or licence number (htmx autocomplete).

    Posts the enterprise id like a select would, so the ModelChoiceField (its queryset limited to the
    user's scope) still validates the choice; no list of every enterprise is ever rendered.
    """

    template_name = "enterprises/widgets/picker.html"

    def get_context(self, name, value, attrs):
        ctx = super().get_context(name, value, attrs)
        label = ""
        choices = getattr(self, "choices", None)
        queryset = getattr(choices, "queryset", None)
        if value not in (None, "") and queryset is not None:
            pk = as_id(value)
            enterprise = queryset.filter(pk=pk).first() if pk else None
            if enterprise is not None:
                label = f"{enterprise.name}（{enterprise.uscc}）"
        ctx["widget"]["label"] = label
        return ctx
