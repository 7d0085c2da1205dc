"""Generic audited writes for simple reference objects (organisations, dictionaries, parameters…).

Apps with business rules write their own service functions; these cover plain create/edit/delete.
"""

from django.db import IntegrityError, transaction

from . import audit


def verb(instance):
    return f"{instance._meta.app_label}.{instance._meta.model_name}"


def locked(instance):
    """The stored row, locked until the caller's transaction ends: the audit's before-state is then the state
    this write replaces, not one a concurrent edit has since overwritten."""
    return type(instance)._default_manager.select_for_update().get(pk=instance.pk)


def validate_and_save(instance):
    """full_clean, then save. A duplicate key committed by someone else after full_clean's check makes the unique
    constraint fail: reported as full_clean would have, a ValidationError naming the field."""
    instance.full_clean()
    try:
        with transaction.atomic():  # a savepoint, so the duplicate can still be looked up after the error
            instance.save()
    except IntegrityError:
        instance.validate_unique()  # raises the ValidationError when a duplicate is the cause
        raise


def save_form(form, *, user=None):
    """Save a ModelForm's instance (and its m2m) with one audit entry holding before and after."""
    instance = form.instance
    creating = instance._state.adding
    before = None if creating else audit.snapshot(type(instance).objects.get(pk=instance.pk))
    with transaction.atomic():
        instance = form.save()
        audit.record(f"{verb(instance)}.{'create' if creating else 'update'}", instance, before=before,
                     after=audit.snapshot(instance), user=user)
    return instance


def save_instance(instance, *, user=None, action=None):
    creating = instance._state.adding
    before = None if creating else audit.snapshot(type(instance).objects.get(pk=instance.pk))
    with transaction.atomic():
        instance.save()
        audit.record(action or f"{verb(instance)}.{'create' if creating else 'update'}", instance,
                     before=before, after=audit.snapshot(instance), user=user)
    return instance


def delete_instance(instance, *, user=None):
    with transaction.atomic():
        before = audit.snapshot(instance)
        audit.record(f"{verb(instance)}.delete", instance, before=before, user=user)
        instance.delete()


def save_serializer(serializer, *, user=None):
    """The API's create/update: one transaction, one audit entry with before and after."""
    instance = serializer.instance
    creating = instance is None
    before = None if creating else audit.snapshot(type(instance).objects.get(pk=instance.pk))
    with transaction.atomic():
        instance = serializer.save()
        audit.record(f"{verb(instance)}.{'create' if creating else 'update'}", instance, before=before,
                     after=audit.snapshot(instance), user=user)
    return instance


def save_dictionary(form, items, *, user=None):
    """A code dictionary and its items (an inline formset) in one transaction; item changes audited."""
    with transaction.atomic():
        dictionary = save_form(form, user=user)
        items.instance = dictionary
        before = list(dictionary.items.values("code", "label", "order", "enabled"))
        items.save()
        after = list(dictionary.items.values("code", "label", "order", "enabled"))
        if before != after:
            audit.record("core.dictionarytype.items", dictionary, before={"items": before}, after={"items": after},
                         user=user)
    return dictionary
