"""Password hashing cost (issue #12: a login cost ≈ 0.55 s of CPU with Django's argon2 defaults)."""

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher, check_password, identify_hasher, make_password

from foodrisk.core.hashers import Argon2idHasher
from foodrisk.core.models import User

PRODUCTION = ["foodrisk.core.hashers.Argon2idHasher", "django.contrib.auth.hashers.PBKDF2PasswordHasher"]


def test_new_passwords_get_owasp_argon2id_parameters(settings):
    settings.PASSWORD_HASHERS = PRODUCTION
    encoded = make_password("Correct-horse-2026!")
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert check_password("Correct-horse-2026!", encoded) and not check_password("wrong", encoded)


@pytest.mark.django_db
def test_a_hash_with_djangos_default_parameters_still_logs_in_and_is_upgraded(settings):
    settings.PASSWORD_HASHERS = PRODUCTION
    old = Argon2PasswordHasher().encode("Correct-horse-2026!", Argon2PasswordHasher().salt())
    assert "m=102400,t=2,p=8" in old
    user = User.objects.create(username="old-hash", password=old)
    assert user.check_password("Correct-horse-2026!")  # verifies, then re-hashes and saves
    user.refresh_from_db()
    assert isinstance(identify_hasher(user.password), Argon2idHasher)
    assert "m=19456,t=2,p=1" in user.password and user.check_password("Correct-horse-2026!")
    assert not user.check_password("Wrong-horse-2026!")
