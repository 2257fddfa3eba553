"""Annotations of objects on the object page: anyone reads them, only a logged-in user writes."""
from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.urls import reverse

from search.models import ObjectAnnotation, annotation_save

pytestmark = pytest.mark.django_db

OBJECT = "ZTF21abfmbix"
URL = f"/objects/{OBJECT}/annotations"


def test_url_is_the_one_the_brief_names():
    assert reverse("accounts:annotations", args=[OBJECT]) == URL


def test_anyone_reads_the_fragment_with_authors_and_dates(client, user):
    annotation_save(user=user, object_id=OBJECT, internal_name="SN 2021abc", comments="a type Ia")
    response = client.get(URL)
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page  # a fragment, for the object page
    assert "SN 2021abc" in page and "a type Ia" in page
    assert '<span class="author">vera</span>' in page
    assert ObjectAnnotation.objects.get().updated.strftime("%Y-%m-%d %H:%M") in page
    assert "Log in</a> to annotate" in page and "<form" not in page


def test_anonymous_post_is_sent_to_log_in_and_saves_nothing(client):
    response = client.post(URL, {"internal_name": "mine", "comments": ""})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")
    response = client.post(URL, {"internal_name": "mine"}, headers={"X-Requested-With": "fetch"})
    assert response.status_code == 403
    assert not ObjectAnnotation.objects.exists()


def test_logged_in_user_annotates_then_edits(logged_in, user, other_user):
    annotation_save(user=other_user, object_id=OBJECT, internal_name="theirs")
    response = logged_in.post(URL, {"internal_name": "  my SN ", "comments": "rising fast"})
    assert response.status_code == 302 and response["Location"] == f"/{OBJECT}#annotations"
    mine = ObjectAnnotation.objects.get(user=user)
    assert (mine.object_id, mine.internal_name, mine.comments) == (OBJECT, "my SN", "rising fast")

    page = logged_in.get(URL).content.decode()
    assert "Edit your annotation" in page and 'value="my SN"' in page  # the form holds the user's own
    assert '<span class="author">vera</span>' in page and '<span class="author">edwin</span>' in page

    # A script gets the updated fragment; one annotation per user and object, replaced.
    response = logged_in.post(URL, {"internal_name": "SN Ia", "comments": ""}, headers={"X-Requested-With": "fetch"})
    assert response.status_code == 201 and "SN Ia" in response.content.decode()
    assert ObjectAnnotation.objects.filter(user=user).count() == 1
    assert ObjectAnnotation.objects.get(user=user).internal_name == "SN Ia"
    # The metadata API route reads what the page wrote.
    rows = Client().get("/api/v1/metadata", {"objectId": OBJECT}).json()
    assert {r["d:username"]: r["d:internal_name"] for r in rows} == {"vera": "SN Ia", "edwin": "theirs"}


@pytest.mark.parametrize(
    ("data", "message"),
    [({"internal_name": "", "comments": "x"}, "Give the object a name."),
     ({"internal_name": "x" * 101}, "The name is too long"),
     ({"internal_name": "ok", "comments": "x" * 2001}, "The comment is too long")],
)
def test_bad_annotations_are_refused_with_a_message(logged_in, data, message):
    response = logged_in.post(URL, data)
    assert response.status_code == 400 and message in response.content.decode()
    assert "<html" in response.content.decode()  # a plain form post gets a whole page back
    response = logged_in.post(URL, data, headers={"X-Requested-With": "fetch"})
    assert response.status_code == 400 and message in response.content.decode()
    assert not ObjectAnnotation.objects.exists()


def test_posts_need_the_csrf_token(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(URL, {"internal_name": "x"}).status_code == 403
    page = client.get(URL)
    token = page.cookies["csrftoken"].value
    assert client.post(URL, {"internal_name": "x", "csrfmiddlewaretoken": token}).status_code == 302


def test_not_an_object_id_is_404(client):
    assert client.get("/objects/ZTF21ABC/annotations").status_code == 404


def test_delete_own_annotation_only(logged_in, user, other_user):
    mine = annotation_save(user=user, object_id=OBJECT, internal_name="a")
    theirs = annotation_save(user=other_user, object_id=OBJECT, internal_name="b")
    logged_in.post(reverse("accounts:annotation_delete", args=[theirs.pk]))
    logged_in.post(reverse("accounts:annotation_delete", args=[mine.pk]))
    assert list(ObjectAnnotation.objects.values_list("internal_name", flat=True)) == ["b"]


def _render(template: str, user) -> str:
    request = RequestFactory().get(f"/{OBJECT}?q=class%3DQSO")
    request.user = user
    return Template("{% load accounts_tags %}" + template).render(Context({"request": request, "user": user}))


def test_annotations_panel_tag_for_the_object_page(user, other_user):
    from django.contrib.auth.models import AnonymousUser

    annotation_save(user=other_user, object_id=OBJECT, internal_name="known")
    page = _render(f'{{% annotations_panel "{OBJECT}" %}}', user)
    assert 'id="annotations"' in page and "known" in page and 'class="inline-form annotation-form"' in page
    assert "Watch this object" in page and "annotations.js" in page
    anonymous = _render(f'{{% annotations_panel "{OBJECT}" %}}', AnonymousUser())
    assert "known" in anonymous and "annotation-form" not in anonymous and "Watch this object" not in anonymous


def test_navigation_tag(user):
    from django.contrib.auth.models import AnonymousUser

    page = _render("{% account_nav %}", user)
    assert "vera" in page and reverse("accounts:logout") in page and reverse("accounts:watchlist") in page
    page = _render("{% account_nav %}", AnonymousUser())
    assert reverse("accounts:login") in page and reverse("accounts:sign_up") in page and "vera" not in page


def test_save_search_tag(user):
    from django.contrib.auth.models import AnonymousUser

    page = _render("{% save_search_button %}", user)
    assert 'name="query" value="q=class%3DQSO"' in page and "Save this search" in page
    assert _render("{% save_search_button %}", AnonymousUser()).strip() == ""
