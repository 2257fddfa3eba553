"""A request body above Django's upload limit is a 413 JSON error, never a 500."""
import json

import pytest


@pytest.mark.django_db
@pytest.mark.parametrize("route", ["xmatch", "objects"])
def test_too_large_json_body_is_413(client, settings, route):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"catalog": "ID,RA,Dec,Time\n" + "x,1,2,3\n" * 5000, "objectId": "ZTF21abc"})
    response = client.post(f"/api/v1/{route}", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["status"] == "error"
    assert "large" in response.json()["text"]
