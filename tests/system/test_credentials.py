"""Who may pass: API keys from the tenant snapshot, and nothing else. Every
rejection is OpenAI-shaped JSON with the exact status, and none reaches the
inference pool."""

import pytest
import requests

from llmoin_stack import wait_until


def error_of(response, status):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


@pytest.fixture(scope="module")
def hamburg(stack):
    key_id, secret = stack.onboard("hamburg")
    return key_id, secret


def sim_requests(stack):
    return stack.sim_stats()["total"]["requests"]


def test_missing_key_is_401_with_www_authenticate(stack, hamburg):
    before = sim_requests(stack)

    response = stack.chat(None)

    assert error_of(response, 401)["code"] == "missing_api_key"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="llmoin"'
    assert sim_requests(stack) == before


@pytest.mark.parametrize("authorization", [
    "Bearer lmk_" + "A" * 43,
    "Bearer lmk_short",
    "Bearer " + "x" * 4000,
    "Basic YWxpY2U6c2VjcmV0",
    "Bearer",
    "lmk_" + "A" * 43,
])
def test_unknown_or_malformed_key_is_401(stack, hamburg, authorization):
    before = sim_requests(stack)

    response = stack.chat(None, headers={"Authorization": authorization})

    assert error_of(response, 401)["code"] in ("invalid_api_key", "missing_api_key")
    assert sim_requests(stack) == before


def test_key_in_query_string_is_not_accepted(stack, hamburg):
    _, secret = hamburg

    response = requests.post(f"{stack.url}/v1/chat/completions?api_key={secret}",
                             json={"model": "llmoin-sim", "messages": []}, timeout=10)

    assert error_of(response, 401)["code"] == "missing_api_key"


def test_revoked_key_is_rejected_within_2s(stack):
    key_id, secret = stack.onboard("bremen")
    assert stack.chat(secret).status_code == 200

    revoked = stack.ctl_json("key", "revoke", key_id)
    assert revoked["revoked_at"] is not None

    wait_until(lambda: stack.chat(secret).status_code == 401, timeout=2.0,
               what="revoked key rejected")
    assert error_of(stack.chat(secret), 401)["code"] == "invalid_api_key"
    before = sim_requests(stack)
    assert stack.chat(secret).status_code == 401
    assert sim_requests(stack) == before


def test_suspended_tenant_is_403_and_resumed_tenant_passes_again(stack):
    _, secret = stack.onboard("niedersachsen")

    stack.ctl("tenant", "suspend", "niedersachsen")
    wait_until(lambda: stack.chat(secret).status_code == 403, timeout=2.0,
               what="suspension in force")
    assert error_of(stack.chat(secret), 403)["code"] == "tenant_suspended"
    before = sim_requests(stack)
    assert stack.chat(secret).status_code == 403
    assert sim_requests(stack) == before

    stack.ctl("tenant", "resume", "niedersachsen")
    wait_until(lambda: stack.chat(secret).status_code == 200, timeout=2.0,
               what="resumed tenant admitted")


@pytest.mark.parametrize("header", ["X-LLMoin-Tenant", "x-llmoin-user", "X-LLMOIN-ANYTHING"])
def test_client_sent_llmoin_header_is_400_even_with_a_valid_key(stack, hamburg, header):
    _, secret = hamburg
    before = sim_requests(stack)

    response = stack.chat(secret, headers={header: "bremen"})

    error = error_of(response, 400)
    assert error["code"] == "reserved_header"
    assert header in error["message"]
    assert sim_requests(stack) == before


def test_client_sent_llmoin_header_without_key_is_400_too(stack, hamburg):
    response = stack.chat(None, headers={"X-LLMoin-Tenant": "hamburg"})

    assert error_of(response, 400)["code"] == "reserved_header"


def test_key_of_one_tenant_is_counted_for_that_tenant_only(stack, hamburg):
    _, secret = hamburg
    before = stack.sim_stats()["tenants"]

    assert stack.chat(secret).status_code == 200

    after = stack.sim_stats()["tenants"]
    changed = [slug for slug in after
               if after[slug]["requests"] != before.get(slug, {}).get("requests", 0)]
    assert changed == ["hamburg"]


def test_snapshot_with_key_hashes_is_not_world_readable(stack, hamburg):
    snapshot = stack.state / "run" / "snapshot.json"

    mode = snapshot.stat().st_mode & 0o777

    assert mode & 0o007 == 0, oct(mode)
    assert b'"hash"' in snapshot.read_bytes()


def test_oversized_header_is_431_json_without_a_crash(stack, hamburg):
    before = sim_requests(stack)

    response = stack.chat(None, headers={"Authorization": "Bearer " + "A" * 65536})

    assert error_of(response, 431)["code"] == "headers_too_large"
    assert sim_requests(stack) == before
    _, secret = hamburg
    assert stack.chat(secret).status_code == 200
    assert "exited on signal" not in (stack.state / "nginx" / "logs" / "error.log").read_text()
