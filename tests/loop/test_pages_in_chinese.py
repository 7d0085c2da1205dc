"""Every page a role reaches, in Chinese: each person of the loop (and the system administrator) opens every item
of his menu and the first records it lists; the visible text must hold no English word outside the allowed ones
(foodrisk.core.testing.english_words: codes, file names and identifiers are not words, they hold digits,
underscores, dots or capitals only). The catalogue itself has no fuzzy or empty translation."""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from loop_kit import Cast, build_city, grade_the_city

import foodrisk
from foodrisk.core.models import User
from foodrisk.core.testing import english_words

SKIP = re.compile(r"^/(accounts/logout|i18n|static|media|api/)|/download/|/export|\.(csv|xlsx|json)$")


def links(html):
    for href in re.findall(r'href="(/[^"#]*)"', html):
        path = urlsplit(href).path
        if not SKIP.search(path):
            yield path


@pytest.mark.slow
@pytest.mark.django_db
def test_every_page_of_every_role_is_in_chinese(client):
    cast = Cast()
    build_city()
    grade_the_city(cast)
    admin = User.objects.create_superuser("sysadmin", password="Test-pass-2026!", organisation=cast.city)
    people = [cast.clerk, cast.supervisor, cast.inspector, cast.chief, cast.author, cast.approver, admin]
    findings, seen_pages = {}, 0
    usernames = set(User.objects.values_list("username", flat=True))  # data: shown where a person is named
    for person in people:
        client.force_login(person)
        home = client.get("/").content.decode()
        menu = list(dict.fromkeys(links(home)))
        queue, visited = list(menu), set()
        for path in menu:  # the first records each list shows: their detail pages
            page = client.get(path)
            if page.status_code != 200 or "text/html" not in page.get("Content-Type", ""):
                continue
            details = [p for p in links(page.content.decode()) if p.startswith(path) and re.search(r"/\d+/$", p)]
            queue += details[:2]
        for path in dict.fromkeys(queue):
            if path in visited:
                continue
            visited.add(path)
            page = client.get(path)
            if page.status_code != 200 or "text/html" not in page.get("Content-Type", ""):
                continue
            seen_pages += 1
            words = english_words(page.content.decode(), usernames)
            if words:
                findings.setdefault(path, set()).update(words)
    assert seen_pages > 60, seen_pages
    assert not findings, "English on zh-hans pages:\n" + "\n".join(
        f"{path}: {sorted(words)[:15]}" for path, words in sorted(findings.items()))


def test_the_catalogue_has_no_fuzzy_or_empty_translation():
    po = (Path(foodrisk.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po").read_text("utf-8")
    entries = po.split("\n\n")[1:]  # the first block is the header
    fuzzy = [e for e in entries if "#, fuzzy" in e]
    empty = [e for e in entries if re.search(r'\nmsgstr ""\s*$', e)]  # no continuation line after msgstr ""
    assert not fuzzy and not empty, (fuzzy + empty)[:5]


def test_filter_labels_follow_the_language_of_each_page():
    """A filter named after its model field kept the language of the first page that showed it, process-wide."""
    from django.utils import translation

    from foodrisk.enterprises.filtersets import LicenceFilterSet

    with translation.override("en"):  # the API schema reads the class's filters before any page binds them
        assert LicenceFilterSet.base_filters["kind"].field.label is not None
    with translation.override("en"):
        assert str(LicenceFilterSet().form.fields["kind"].label) == "Kind"
    with translation.override("zh-hans"):
        assert str(LicenceFilterSet().form.fields["kind"].label) == "类型"
