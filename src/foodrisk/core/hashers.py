"""Password hashing: Argon2id with OWASP's recommended parameters instead of Django's defaults.

Django's Argon2PasswordHasher uses 100 MiB, 2 passes and 8 lanes. On a 2-core web node the 8 lanes cannot
run in parallel, so a login cost ≈ 0.42–0.55 s of CPU, and 200 users logging in at the start of a shift
queued behind one another for tens of seconds (issue #12). OWASP's Password Storage Cheat Sheet recommends
for Argon2id at least 19 MiB, 2 passes, 1 lane: ≈ 50 ms of CPU here (benchmarks/results/load-*.json),
still memory-hard against GPU guessing, and login attempts are rate-limited (django-axes).

The algorithm name stays "argon2", so existing hashes verify as before (Argon2 stores its parameters in the
hash) and Django re-hashes each with these parameters at the user's next successful login (must_update).
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
