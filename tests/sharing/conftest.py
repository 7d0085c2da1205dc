import pytest

from foodrisk.core.models import User
from foodrisk.core.testing import grant, make_regions
from foodrisk.enterprises.testing import make_enterprise


@pytest.fixture
def make_world(db):
    """(regions, admin, approver, 杭州 enterprise, 宁波 enterprise); the admin holds the client permissions and
    any given."""

    def make(*admin_perms):
        regions = make_regions()
        admin = grant(User.objects.create_user("admin", national_scope=True), "sharing.add_clientsystem",
                      "sharing.change_clientsystem", "sharing.view_clientsystem", *admin_perms)
        approver = grant(User.objects.create_user("approver", national_scope=True), "sharing.approve_clientsystem",
                         "sharing.view_clientsystem")
        hz = make_enterprise(regions["330102"], name="杭州老王面馆", current_grade="C", current_score=61.5)
        nb = make_enterprise(regions["330203"], name="宁波海鲜排档", current_grade="B", current_score=40.0)
        return regions, admin, approver, hz, nb

    return make
