"""One way to move a workflow object from one state to another: warnings, grade adjustments, indicator sets,
model versions, tasks and rectifications, credit repairs and export requests all go through `Workflow.step`.

A step, inside one transaction:
  1. locks the row (select_for_update) and re-reads it, so two people acting at once are serialised and the
     second one sees the first one's result;
  2. checks the user: logged in, the transition's permission, the object within the user's scope (when the
     model's manager knows scopes), and for a second-person step that the user is not the one who acted first
     (two-person approval, 双人复核);
  3. checks that the object's current state allows the transition;
  4. hands the locked object to the caller, who applies the business rules of the app and changes the fields;
  5. saves it, writes the object's timeline row (if the app keeps one) and the audit entry with the state
     before and after, and emits the app's event in the outbox (delivered by the worker after commit).

The transitions are data (`Transition`: allowed source states, permission, the field naming the first person);
an app's services keep only their business rules. "Only one open …" rules are database constraints on the
models, so two simultaneous requests cannot both win; `unique_or(ValidationError)` turns the loser's
IntegrityError into a clear message.
"""

from contextlib import contextmanager
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from .services import audit


class InvalidTransition(ValidationError):
    """The object's state does not allow the action (shown to the user; a 400 in the API)."""


@dataclass(frozen=True)
class Transition:
    sources: frozenset                 # states the object may be in
    permission: str | None = None      # "app.codename" the user needs (None: the caller checks who may act)
    second_person: tuple = ()          # user fields of the object naming who acted first; they may not do this step
    label: str = ""                    # the verb in messages ("审核"); lazily translated


@dataclass
class Step:
    """What the caller fills in while the row is locked."""

    obj: object
    action: str                        # the audit / timeline verb; the caller may refine it (review → dismiss)
    from_state: str
    note: str = ""
    details: dict = field(default_factory=dict)
    delete: bool = False               # True: the transition removes the object (a draft discarded)
    skip: bool = False                 # True: nothing happened after all (the caller changed nothing); no record


class Workflow:
    def __init__(self, model, transitions, *, audit_as, state_fields, state="status", timeline=None,
                 announce=None, related=(), defer=()):
        self.model = model
        self.transitions = transitions
        self.audit_as = audit_as              # "alerts.alert" → audit actions "alerts.alert.<action>"
        self.state_fields = tuple(state_fields)
        self.state = state
        self.timeline = timeline              # (obj, step, to_state, user) → writes the object's own event row
        self.announce = announce              # (obj, step, to_state, user) → emits the app's outbox event
        self.related = related                # select_related for the locked read
        self.defer = defer                    # large columns a transition never changes (not read, not rewritten)

    # --- reads -----------------------------------------------------------------------------------------
    def snapshot(self, obj):
        return audit.snapshot(obj, fields=self.state_fields)

    def may(self, obj, name, user):
        """Whether the user may take this transition now (for buttons; the step itself checks again)."""
        t = self.transitions[name]
        if not getattr(user, "is_authenticated", False) or getattr(obj, self.state) not in t.sources:
            return False
        if t.permission and not user.has_perm(t.permission):
            return False
        return not self._first_person(obj, t, user)

    def _first_person(self, obj, t, user):
        """The field naming this user as one who acted first (two-person rule), or None."""
        fields = (t.second_person,) if isinstance(t.second_person, str) else t.second_person
        return next((f for f in fields if getattr(obj, f"{f}_id", None) == user.pk), None)

    # --- the step ------------------------------------------------------------------------------------------
    def _scope(self, user):
        manager = self.model._default_manager
        return manager.in_scope(user) if hasattr(manager, "in_scope") else manager.all()

    def lock(self, obj, name, user):
        """The locked, re-read object once every check of the transition passed."""
        t = self.transitions[name]
        if user is not None and not getattr(user, "is_authenticated", False):
            raise PermissionDenied(_("Log in first."))
        if user is not None and t.permission and not user.has_perm(t.permission):
            raise PermissionDenied(_("You lack the permission “%(perm)s”.") % {"perm": t.permission})
        rows = self.model._default_manager.select_for_update().filter(pk=obj.pk).defer(*self.defer)
        locked = (rows.select_related(*self.related) if self.related else rows).first()
        if locked is None or (user is not None and not self._scope(user).filter(pk=obj.pk).exists()):
            raise PermissionDenied(_("This is outside your jurisdiction."))
        state = getattr(locked, self.state)
        if state not in t.sources:
            labels = dict(self.model._meta.get_field(self.state).flatchoices)
            allowed = "、".join(str(labels.get(s, s)) for s in sorted(t.sources))
            raise InvalidTransition(
                _("Cannot %(action)s: it is “%(status)s”; this is possible only when it is: %(allowed)s.")
                % {"action": t.label or name, "status": getattr(locked, f"get_{self.state}_display")(),
                   "allowed": allowed}, code="invalid_transition")
        if user is not None and (first := self._first_person(locked, t, user)):
            raise PermissionDenied(_("A second person must do this: the %(role)s is you.") % {
                "role": self.model._meta.get_field(first).verbose_name})
        return locked

    @contextmanager
    def step(self, obj, name, *, user, note=""):
        """`with WORKFLOW.step(obj, "approve", user=u) as s: s.obj.status = …` — see the module docstring."""
        with transaction.atomic():
            locked = self.lock(obj, name, user)
            step = Step(obj=locked, action=name, from_state=getattr(locked, self.state), note=note)
            before = self.snapshot(locked)
            yield step
            if step.skip:
                return
            if not step.delete:
                locked.save()
            to_state = getattr(locked, self.state)
            if self.timeline is not None and not step.delete:
                self.timeline(locked, step, to_state, user)
            audit.record(f"{self.audit_as}.{step.action}", locked, before=before,
                         after=None if step.delete else self.snapshot(locked), user=user,
                         details=step.details or None)
            if self.announce is not None:
                self.announce(locked, step, to_state, user)
            if step.delete:
                locked.delete()


@contextmanager
def unique_or(error):
    """Run a write whose "only one open …" rule is a database constraint: a concurrent winner's row makes the
    constraint fail; the loser gets `error` (a ValidationError with a message) instead of a server error."""
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction survives the failed insert
            yield
    except IntegrityError as exc:
        raise error from exc
