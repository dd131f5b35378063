"""Sign-in security at the gateway: one state never gets into another's
tenant, and no forged, malformed or stale credential ever reaches the
inference pool.

Every refusal is checked for its exact status, the OpenAI-shaped error JSON
with its exact code, that the answer does not echo the credential, and that
infer-sim's ledger (total.requests) did not move. Positive controls reach the
pool exactly once.

The identity providers are simulated here: RSA 2048 and EC P-256 keys made
with `cryptography`, tokens signed with PyJWT, malformed tokens assembled by
hand (and still properly signed, so that only the rule under test can refuse
them). JWKS documents for jwks_uri issuers (and an attacker's JWKS) are
served from 127.0.0.1 by threads of this process.

Two things are added to this node's nginx (in its state directory, through
the nginx/conf/extra/ include of ops/templates/nginx.conf.in):
  - a second gateway server with `large_client_header_buffers 4 32k`, so that
    the module's own 16 KiB token limit can be reached (with nginx's default
    8k buffers, a header line that long is refused by nginx with 431 first);
  - an upstream `llmoin_pool_capture` to a recording HTTP server in this
    process, so that what the inference tier receives (X-LLMoin-User,
    Authorization) can be observed; infer-sim does not expose headers.
"""

import base64
import datetime
import hashlib
import hmac
import http.client
import http.server
import json
import random
import socket
import threading
import time
import uuid

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from identity import (Idp, b64u, compact, new_key, public_jwk, self_signed_certificate,
                      signed_raw)
from llmoin_stack import SIM_MODEL, wait_until
from management import on_socket

A_SLUG, A_ISS, A_AUD, A_HOST = ("schleswig-holstein", "https://idp.sh.example/realms/land",
                                "llmoin-sh", "llmoin.sh.example")
B_SLUG, B_ISS, B_AUD, B_HOST = ("bayern", "https://idp.by.example/realms/land",
                                "llmoin-by", "llmoin.by.example")
C_SLUG, C_ISS, C_AUD = "saarland", "https://idp.sl.example", "llmoin-sl"
OTHER_MODEL = "other-model"
CAPTURE_MODEL = "capture-model"


# --- plumbing -------------------------------------------------------------------

def sim_requests(stack):
    return stack.sim_stats()["total"]["requests"]


def error_of(response, status):
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


def assert_not_echoed(response, credential):
    """Neither the credential nor any of its parts (a JWT's signature, say)
    may come back to the client."""
    if not credential:
        return
    body = response.text
    assert credential not in body
    for part in credential.split("."):
        if len(part) >= 8:
            assert part not in body, f"a part of the credential is echoed: {body}"


def refused(stack, send, status, code, credential=None):
    """send() must be refused with status/code, without echoing the
    credential and without reaching the pool. Returns the error object."""
    before = sim_requests(stack)
    response = send()
    error = error_of(response, status)
    assert error["code"] == code, error
    assert_not_echoed(response, credential)
    assert sim_requests(stack) == before, "a refused request reached the inference pool"
    return error


def chat_refused(stack, credential, status, code, **chat):
    return refused(stack, lambda: stack.chat(credential, **chat), status, code, credential)


def admitted_once(stack, credential, **chat):
    """A positive control: 200, and exactly one request reached the pool."""
    before = sim_requests(stack)
    response = stack.chat(credential, **chat)
    assert response.status_code == 200, response.text
    assert response.json()["object"] == "chat.completion"
    assert sim_requests(stack) == before + 1
    return response


def admin(stack, method, path, body=None, expect=(200, 201)):
    """The management API (tenantd) over its unix socket."""
    status, document = on_socket(stack, method, path, body)
    assert status in expect, f"{method} {path} -> {status}: {document}"
    return document


def raw_request(stack, method, path, headers, url=None):
    """One request with headers exactly as given (duplicates allowed)."""
    base = url or stack.url
    host, port = base.split("//", 1)[1].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=15)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), response.read().decode()
    finally:
        connection.close()


def start_server(handler_class):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class JwksServer:
    """Serves {"keys": self.keys} at /jwks.json and counts the fetches."""

    def __init__(self):
        self.keys = []
        self.hits = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                owner.hits += 1
                body = json.dumps({"keys": list(owner.keys)}).encode()
                self.send_response(200 if self.path == "/jwks.json" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = start_server(Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class CaptureUpstream:
    """An inference server that records what it is sent (headers, body) and
    answers like an OpenAI chat completion."""

    def __init__(self):
        self.requests = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode(errors="replace")
                owner.requests.append({"headers": dict(self.headers.items()),
                                       "raw_headers": str(self.headers), "body": body,
                                       "path": self.path})
                answer = json.dumps({
                    "id": "chatcmpl-capture", "object": "chat.completion", "created": 0,
                    "model": CAPTURE_MODEL,
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": "ok"}}],
                    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
                }).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = start_server(Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# --- identity providers -----------------------------------------------------------

def add_issuer(stack, slug, idp=None, **fields):
    body = dict(fields)
    if idp is not None:
        body.setdefault("issuer", idp.issuer)
        body.setdefault("audience", idp.audience)
        if "jwks_uri" not in body:
            body.setdefault("jwks", idp.jwks())
    return admin(stack, "POST", f"/admin/v1/tenants/{slug}/issuers", body, expect=(201,))


def create_tenant(stack, slug):
    return admin(stack, "POST", "/admin/v1/tenants", {"slug": slug, "name": slug.title()},
                 expect=(201,))


# Each nginx worker looks at the snapshot file once a second on its own: a
# change seen by one worker reaches the others up to a second later.
WORKER_POLL = 1.2


def wait_token_works(stack, token_factory, timeout=3.0):
    """Polls /v1/models (answered by the gateway, never by the pool) until a
    fresh token is accepted, then lets every worker catch up."""
    wait_until(lambda: stack.models(token_factory()).status_code == 200, timeout=timeout,
               interval=0.1, what="token accepted by the gateway")
    time.sleep(WORKER_POLL)


def wait_key_works(stack, secret):
    stack.wait_key_works(secret)
    time.sleep(WORKER_POLL)


def refused_everywhere_within(stack, changed_at, seconds, credential, status, code,
                              what):
    """The promise "refused within N s" for every worker: the first refusal
    comes within N s of the change, and from N s on, no request passes."""
    wait_until(lambda: stack.models(credential).status_code == status,
               timeout=max(0.0, changed_at + seconds - time.monotonic()), interval=0.05,
               what=what)
    time.sleep(max(0.0, changed_at + seconds - time.monotonic()))
    for _ in range(6):
        refused(stack, lambda: stack.models(credential), status, code, credential)


# --- the node's tenants -----------------------------------------------------------

EXTRA_CONF = """\
# written by tests/system/test_sign_in_security.py
upstream llmoin_pool_capture {{
    server {capture};
}}

server {{
    listen 127.0.0.1:{port};
    # big enough that a token over the module's 16 KiB limit reaches it
    large_client_header_buffers 4 32k;
    client_max_body_size 8m;
    client_body_buffer_size 8m;

    include {source}/nginx-module/llmoin_errors.conf;

    location /v1/ {{
        llmoin on;
        include {source}/nginx-module/llmoin_proxy_params;
        proxy_pass http://llmoin_pool_$llmoin_pool;
    }}

    location = /healthz {{
        return 200 "ok\\n";
    }}
}}
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def node(stack):
    """The extra nginx server and the capture pool (see the module doc)."""
    capture = CaptureUpstream()
    port = free_port()
    (stack.state / "nginx" / "conf" / "extra" / "sign_in_security.conf").write_text(
        EXTRA_CONF.format(capture=capture.address, port=port, source=stack.env["LLMOIN_SOURCE"]))
    stack.ops("reload-nginx")
    big_url = f"http://127.0.0.1:{port}"

    def up():
        try:
            return requests.get(f"{big_url}/healthz", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    wait_until(up, timeout=10, what="the big-header gateway server")
    time.sleep(0.5)  # the old workers finish
    stack.sql("INSERT INTO pools (name, description) VALUES ('capture', 'test recorder')"
              " ON CONFLICT DO NOTHING")
    admin(stack, "POST", "/admin/v1/models", {"alias": CAPTURE_MODEL, "pool": "capture"})
    admin(stack, "POST", "/admin/v1/models", {"alias": OTHER_MODEL, "pool": "default"})
    yield {"big_url": big_url, "capture": capture}
    capture.close()


@pytest.fixture(scope="module")
def tenants(stack, node):
    """Three states, each with its own identity provider:
    A (Schleswig-Holstein): RS256, PS256, ES256 keys and one kid that B also
      uses; bound to host A_HOST.  B (Bayern): its own keys, host B_HOST.
    C (Saarland): exactly one key (tokens without kid)."""
    a = Idp(A_ISS, A_AUD)
    a.add_key("sh-rs", "RS256")
    a.add_key("sh-ps", "PS256")
    a.add_key("sh-es", "ES256")
    a.add_key("shared-1", "RS256")
    b = Idp(B_ISS, B_AUD)
    b.add_key("by-rs", "RS256")
    b.add_key("shared-1", "RS256")
    c = Idp(C_ISS, C_AUD)
    c.add_key("sl-only", "RS256")
    keys = {}
    for slug, idp, host in ((A_SLUG, a, A_HOST), (B_SLUG, b, B_HOST), (C_SLUG, c, None)):
        create_tenant(stack, slug)
        add_issuer(stack, slug, idp)
        if host:
            admin(stack, "PATCH", f"/admin/v1/tenants/{slug}", {"hosts": [host]})
        keys[slug] = stack.create_key(slug, "alice")[1]
    wait_token_works(stack, lambda: a.token("sh-rs"))
    wait_token_works(stack, lambda: b.token("by-rs"))
    wait_token_works(stack, lambda: c.token(None))
    for secret in keys.values():
        wait_key_works(stack, secret)
    return {"a": a, "b": b, "c": c, "keys": keys}


@pytest.fixture(scope="module")
def a(tenants):
    return tenants["a"]


@pytest.fixture(scope="module")
def b(tenants):
    return tenants["b"]


# --- positive controls ------------------------------------------------------------

@pytest.mark.parametrize("kid", ["sh-rs", "sh-ps", "sh-es"])
def test_valid_token_of_each_pinned_algorithm_reaches_the_pool_once(stack, a, kid):
    token = a.token(kid)
    assert jwt.get_unverified_header(token)["alg"] == a.keys[kid][1]

    before = stack.sim_tenant(A_SLUG)["requests"]
    admitted_once(stack, token)

    assert stack.sim_tenant(A_SLUG)["requests"] == before + 1


def test_token_without_kid_passes_when_the_issuer_has_exactly_one_key(stack, tenants):
    token = tenants["c"].token(None)
    assert "kid" not in jwt.get_unverified_header(token)

    admitted_once(stack, token)


def test_token_without_kid_is_refused_when_the_issuer_has_several_keys(stack, a):
    key, _ = a.keys["sh-rs"]
    token = jwt.encode(a.claims(), key, algorithm="RS256")

    chat_refused(stack, token, 401, "unknown_key")


def test_audience_array_containing_ours_passes(stack, a):
    admitted_once(stack, a.token("sh-rs", aud=["account", A_AUD, B_AUD]))


def test_typ_at_jwt_passes(stack, a):
    admitted_once(stack, a.token("sh-es", headers={"typ": "at+jwt"}))


def test_small_clock_skew_within_leeway_passes(stack, a):
    now = int(time.time())
    admitted_once(stack, a.token("sh-rs", nbf=now + 30, iat=now + 30))


# --- exp/nbf/iat and the leeway (60 s by default) ---------------------------------

def start_of_a_second():
    """Waits for a fresh second, so that a token minted with now = this second
    is checked by the gateway within the same second."""
    time.sleep(1.0 - (time.time() % 1.0) + 0.01)
    return int(time.time())


def test_expired_59_seconds_ago_passes_with_60_seconds_leeway(stack, a):
    now = start_of_a_second()
    token = a.token("sh-rs", iat=now - 600, exp=now - 59)

    admitted_once(stack, token)


def test_expired_61_seconds_ago_is_refused_with_60_seconds_leeway(stack, a):
    now = int(time.time())
    token = a.token("sh-rs", iat=now - 600, exp=now - 61)

    chat_refused(stack, token, 401, "expired_token")


@pytest.mark.parametrize("changes, code", [
    ({"exp": -3600, "iat": -7200}, "expired_token"),
    ({"nbf": 3600}, "token_not_yet_valid"),
    ({"iat": 3600}, "token_not_yet_valid"),
], ids=["expired-an-hour-ago", "nbf-in-an-hour", "iat-in-an-hour"])
def test_token_outside_its_validity_is_refused(stack, a, changes, code):
    now = int(time.time())
    token = a.token("sh-rs", **{claim: now + delta for claim, delta in changes.items()})

    chat_refused(stack, token, 401, code)


@pytest.mark.parametrize("exp", [None, "9999999999", 1e300, -5, True],
                         ids=["missing", "string", "huge", "negative", "boolean"])
def test_token_without_a_usable_exp_is_refused(stack, a, exp):
    token = a.raw({"alg": "RS256", "kid": "sh-rs"}, a.claims(exp=None) | (
        {} if exp is None else {"exp": exp}))

    # the gateway names a missing or unusable exp "expired_token" (common/token.c)
    chat_refused(stack, token, 401, "expired_token")


@pytest.fixture(scope="module")
def strict_idp(stack, tenants):
    """A second issuer of Saarland, configured without any leeway."""
    idp = Idp("https://idp-strict.sl.example", "llmoin-sl-strict")
    idp.add_key("strict-1", "PS256")
    assert add_issuer(stack, C_SLUG, idp, leeway_seconds=0)["leeway_seconds"] == 0
    wait_token_works(stack, lambda: idp.token("strict-1"))
    return idp


@pytest.mark.parametrize("changes, code", [
    ({"exp": -1, "iat": -600}, "expired_token"),
    ({"exp": 0, "iat": -600}, "expired_token"),
    ({"nbf": 5}, "token_not_yet_valid"),
    ({"iat": 5}, "token_not_yet_valid"),
], ids=["exp-1s-ago", "exp-now", "nbf-in-5s", "iat-in-5s"])
def test_issuer_without_leeway_tolerates_no_skew(stack, strict_idp, changes, code):
    now = int(time.time())
    token = strict_idp.token("strict-1",
                             **{claim: now + delta for claim, delta in changes.items()})

    chat_refused(stack, token, 401, code)


# --- algorithm confusion: the key decides, never the token ------------------------

def hs256_with_public_pem(a):
    """The classic forgery: HS256 keyed with the issuer's RSA public key."""
    public_pem = a.keys["sh-rs"][0].public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = f"{b64u(compact({'alg': 'HS256', 'typ': 'JWT', 'kid': 'sh-rs'}))}." \
                    f"{b64u(compact(a.claims()))}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64u(mac)}"


def alg_none(a, signature):
    return (f"{b64u(compact({'alg': 'none', 'typ': 'JWT', 'kid': 'sh-rs'}))}."
            f"{b64u(compact(a.claims(sub='mallory')))}.{signature}")


ALG_CONFUSIONS = {
    "none-empty-signature": lambda a: alg_none(a, ""),
    "none-with-signature": lambda a: alg_none(a, b64u(b"\x00" * 32)),
    "hs256-rsa-public-pem": hs256_with_public_pem,
    "rs256-on-ps256-pinned-key": lambda a: a.token("sh-ps", alg="RS256"),
    "ps256-on-rs256-pinned-key": lambda a: a.token("sh-rs", alg="PS256"),
    "rs384-header": lambda a: a.raw({"alg": "RS384", "kid": "sh-rs"}, a.claims()),
    "lowercase-rs256": lambda a: a.raw({"alg": "rs256", "kid": "sh-rs"}, a.claims()),
    "es256-header-on-rsa-key": lambda a: a.raw(
        {"alg": "ES256", "kid": "sh-rs"}, a.claims(), key=a.keys["sh-es"][0], alg="ES256"),
    "rs256-header-on-ec-key": lambda a: a.raw(
        {"alg": "RS256", "kid": "sh-es"}, a.claims(), key=a.keys["sh-rs"][0], alg="RS256"),
    "alg-missing": lambda a: a.raw({"kid": "sh-rs"}, a.claims()),
    "alg-not-a-string": lambda a: a.raw({"alg": ["RS256"], "kid": "sh-rs"}, a.claims()),
}


@pytest.mark.parametrize("forge", ALG_CONFUSIONS.values(), ids=ALG_CONFUSIONS.keys())
def test_algorithm_confusion_is_refused(stack, a, forge):
    chat_refused(stack, forge(a), 401, "invalid_token")


def test_es256_signature_in_der_form_is_refused(stack, a):
    key, _ = a.keys["sh-es"]
    signing_input = f"{b64u(compact({'alg': 'ES256', 'kid': 'sh-es'}))}.{b64u(compact(a.claims()))}"
    der = key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))

    chat_refused(stack, f"{signing_input}.{b64u(der)}", 401, "invalid_token")


@pytest.mark.parametrize("salt_length", [0, 20, padding.PSS.MAX_LENGTH])
def test_ps256_with_a_salt_other_than_32_bytes_is_refused(stack, a, salt_length):
    key, _ = a.keys["sh-ps"]
    signing_input = f"{b64u(compact({'alg': 'PS256', 'kid': 'sh-ps'}))}.{b64u(compact(a.claims()))}"
    signature = key.sign(signing_input.encode(),
                         padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt_length),
                         hashes.SHA256())

    chat_refused(stack, f"{signing_input}.{b64u(signature)}", 401, "invalid_token")


# --- keys, signatures, tampering -------------------------------------------------

def test_kid_of_another_tenants_issuer_is_unknown(stack, a, b):
    """A's iss and audience, but B's key (kid by-rs): A's JWKS is the only
    place the key may come from."""
    token = a.token("by-rs", key=b.keys["by-rs"][0], alg="RS256")

    chat_refused(stack, token, 401, "unknown_key")


def test_same_kid_in_two_tenants_does_not_let_bs_key_sign_for_a(stack, a, b):
    token = a.token("shared-1", key=b.keys["shared-1"][0])

    chat_refused(stack, token, 401, "invalid_token")


def test_signature_of_another_key_is_refused(stack, a):
    chat_refused(stack, a.token("sh-rs", key=new_key("RS256")), 401, "invalid_token")


def test_tampered_payload_with_the_original_signature_is_refused(stack, a):
    genuine = a.token("sh-rs", sub="alice")
    header, payload, signature = genuine.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "mallory"
    forged = f"{header}.{b64u(compact(claims))}.{signature}"

    chat_refused(stack, forged, 401, "invalid_token")


def test_tampered_header_with_the_original_signature_is_refused(stack, a):
    genuine = a.token("sh-rs")
    _, payload, signature = genuine.split(".")
    forged = f"{b64u(compact({'alg': 'RS256', 'kid': 'sh-rs', 'typ': 'JWT', 'x': 1}))}" \
             f".{payload}.{signature}"

    chat_refused(stack, forged, 401, "invalid_token")


@pytest.mark.parametrize("cut, code", [
    (lambda t: t[:-10], "invalid_token"),
    (lambda t: t[:-1], "invalid_token"),
    (lambda t: t.rsplit(".", 1)[0] + ".", "invalid_token"),
    (lambda t: t.rsplit(".", 1)[0], "invalid_api_key"),   # one dot: not a JWT
    (lambda t: t[:len(t) // 2], "invalid_token"),
], ids=["last-10-chars", "last-char", "signature-gone", "signature-and-dot-gone", "half"])
def test_truncated_token_is_refused(stack, a, cut, code):
    token = cut(a.token("sh-rs"))
    if code == "invalid_token":
        assert token.count(".") == 2

    chat_refused(stack, token, 401, code)


@pytest.mark.parametrize("kid", ["", "no-such-key", "k" * 128],
                         ids=["empty", "unknown", "128-bytes"])
def test_unknown_kid_is_refused(stack, a, kid):
    chat_refused(stack, a.token(kid, key=a.keys["sh-rs"][0], alg="RS256"), 401, "unknown_key")


@pytest.mark.parametrize("kid", [7, "k" * 129, None], ids=["number", "129-bytes", "null"])
def test_malformed_kid_is_refused(stack, a, kid):
    chat_refused(stack, a.raw({"alg": "RS256", "kid": kid}, a.claims()), 401, "invalid_token")


# --- keys from the token are never used (jku, x5u, jwk, x5c) ----------------------

@pytest.fixture(scope="module")
def attacker():
    key = new_key("RS256")
    server = JwksServer()
    server.keys = [public_jwk(key, "evil-1", "RS256"), public_jwk(key, "sh-rs", "RS256")]
    yield {"key": key, "server": server}
    server.close()


def attacker_headers(kind, attacker):
    key, url = attacker["key"], attacker["server"].url
    if kind == "jku-unknown-kid":
        return "evil-1", {"jku": url}
    if kind == "jku-our-kid":
        return "sh-rs", {"jku": url}
    if kind == "x5u":
        return "sh-rs", {"x5u": url}
    if kind == "jwk":
        return "sh-rs", {"jwk": public_jwk(key, "sh-rs", "RS256")}
    certificate = self_signed_certificate(key).public_bytes(serialization.Encoding.DER)
    return "sh-rs", {"x5c": [base64.b64encode(certificate).decode()]}


@pytest.mark.parametrize("kind, code", [
    ("jku-unknown-kid", "unknown_key"),
    ("jku-our-kid", "invalid_token"),
    ("x5u", "invalid_token"),
    ("jwk", "invalid_token"),
    ("x5c", "invalid_token"),
])
def test_key_named_by_the_token_is_ignored(stack, a, attacker, kind, code):
    kid, headers = attacker_headers(kind, attacker)
    hits = attacker["server"].hits
    token = a.token(kid, key=attacker["key"], alg="RS256", headers=headers)

    chat_refused(stack, token, 401, code)
    time.sleep(1.0)  # a fetch, if one were triggered, would have happened
    assert attacker["server"].hits == hits, "the gateway or tenantd fetched the token's URL"


def test_crit_header_is_refused(stack, a):
    token = a.token("sh-rs", headers={"crit": ["exp"]})

    chat_refused(stack, token, 401, "invalid_token")


@pytest.mark.parametrize("typ", ["foo", "JWS", 1])
def test_unexpected_typ_is_refused(stack, a, typ):
    chat_refused(stack, a.raw({"alg": "RS256", "kid": "sh-rs", "typ": typ}, a.claims()),
                 401, "invalid_token")


# --- encoding and JSON --------------------------------------------------------------

def with_char(text, char):
    return text[:5] + char + text[6:]


def noncanonical(text):
    """Same decoded bytes under a lenient decoder: sets unused low bits of
    the last character (text must not end on a 4-character boundary)."""
    assert len(text) % 4 in (2, 3)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    index = alphabet.index(text[-1])
    assert index & (15 if len(text) % 4 == 2 else 3) == 0
    return text[:-1] + alphabet[index | 1]


def std_base64_payload(a):
    """A payload whose base64url spelling has '-' or '_', spelled with the
    standard alphabet's '+' and '/' instead."""
    while True:
        payload = b64u(compact(a.claims(jti=uuid.uuid4().hex + "\u00fe\u00ff?>")))
        if "-" in payload or "_" in payload:
            return payload.replace("-", "+").replace("_", "/")


def padded(text):
    """The padded spelling that lenient decoders accept."""
    assert len(text) % 4 in (2, 3)
    return text + "=" * (-len(text) % 4)


def on_signature(token, change):
    signing_input, signature = token.rsplit(".", 1)
    return f"{signing_input}.{change(signature)}"


def header_b64():
    return b64u(compact({"alg": "RS256", "kid": "sh-rs"}))


def payload_b64(a, remainder):
    """The base64url of valid claims, its length % 4 in remainder."""
    for pad in range(8):
        text = b64u(compact(a.claims(pad="p" * pad)))
        if len(text) % 4 in remainder:
            return text
    raise AssertionError("unreachable")


BAD_ENCODINGS = {
    "header-padded": lambda a: signed_raw(padded(header_b64()), b64u(compact(a.claims())),
                                          a.keys["sh-rs"][0]),
    "payload-padded": lambda a: signed_raw(header_b64(), padded(payload_b64(a, (2, 3))),
                                           a.keys["sh-rs"][0]),
    "signature-padded": lambda a: on_signature(a.token("sh-rs"), padded),
    "payload-standard-base64": lambda a: signed_raw(header_b64(), std_base64_payload(a),
                                                    a.keys["sh-rs"][0]),
    "invalid-char-in-payload": lambda a: signed_raw(
        header_b64(), with_char(b64u(compact(a.claims())), "!"), a.keys["sh-rs"][0]),
    "invalid-char-in-signature": lambda a: with_char(a.token("sh-rs")[::-1], "*")[::-1],
    "signature-not-canonical": lambda a: on_signature(a.token("sh-rs"), noncanonical),
    "payload-length-mod-4-is-1": lambda a: signed_raw(
        header_b64(), payload_b64(a, (0,)) + "A", a.keys["sh-rs"][0]),
}


@pytest.mark.parametrize("forge", BAD_ENCODINGS.values(), ids=BAD_ENCODINGS.keys())
def test_not_strict_base64url_is_refused(stack, a, forge):
    token = forge(a)
    assert token.count(".") == 2

    chat_refused(stack, token, 401, "invalid_token")


BAD_JSON = {
    "header-not-json": lambda a: a.raw("RS256 sh-rs", a.claims()),
    "header-json-array": lambda a: a.raw('[{"alg":"RS256","kid":"sh-rs"}]', a.claims()),
    "header-json-string": lambda a: a.raw('"RS256"', a.claims()),
    "header-trailing-garbage": lambda a: a.raw('{"alg":"RS256","kid":"sh-rs"}x', a.claims()),
    "payload-not-json": lambda a: a.raw({"alg": "RS256", "kid": "sh-rs"}, "sub=alice"),
    "payload-json-array": lambda a: a.raw({"alg": "RS256", "kid": "sh-rs"},
                                          compact([a.claims()])),
    "payload-nul-in-iss": lambda a: a.raw(
        {"alg": "RS256", "kid": "sh-rs"},
        compact(a.claims(iss="ISS")).replace('"ISS"', json.dumps(A_ISS + "\u0000" + B_ISS))),
    "duplicate-sub": lambda a: a.raw(
        {"alg": "RS256", "kid": "sh-rs"},
        compact(a.claims(sub="alice"))[:-1] + ',"sub":"mallory"}'),
    "duplicate-iss": lambda a: a.raw(
        {"alg": "RS256", "kid": "sh-rs"},
        compact(a.claims())[:-1] + f',"iss":{json.dumps(B_ISS)}}}'),
    "duplicate-alg": lambda a: a.raw('{"alg":"RS256","kid":"sh-rs","alg":"none"}', a.claims()),
    "claim-nested-100-deep": lambda a: a.raw(
        {"alg": "RS256", "kid": "sh-rs"},
        compact(a.claims())[:-1] + ',"deep":' + "[" * 99 + "]" * 99 + "}"),
    "claim-nested-17-deep": lambda a: a.raw(
        {"alg": "RS256", "kid": "sh-rs"},
        compact(a.claims())[:-1] + ',"deep":' + "[" * 16 + "]" * 16 + "}"),
    "header-nested-100-deep": lambda a: a.raw(
        '{"alg":"RS256","kid":"sh-rs","x":' + '{"a":' * 99 + "1" + "}" * 99 + "}", a.claims()),
}


@pytest.mark.parametrize("forge", BAD_JSON.values(), ids=BAD_JSON.keys())
def test_bad_json_in_a_properly_signed_token_is_refused(stack, a, forge):
    chat_refused(stack, forge(a), 401, "invalid_token")


def test_claim_nested_exactly_16_deep_passes(stack, a):
    """The boundary of the nesting limit: the payload object is level 1."""
    payload = compact(a.claims())[:-1] + ',"deep":' + "[" * 15 + "]" * 15 + "}"

    admitted_once(stack, a.raw({"alg": "RS256", "kid": "sh-rs"}, payload))


# --- claims -----------------------------------------------------------------------

@pytest.mark.parametrize("changes, code", [
    ({"aud": B_AUD}, "wrong_audience"),
    ({"aud": ["account", B_AUD]}, "wrong_audience"),
    ({"aud": None}, "wrong_audience"),
    ({"aud": [A_AUD, 1]}, "wrong_audience"),
    ({"iss": "https://idp.evil.example/realms/land"}, "untrusted_issuer"),
    ({"iss": None}, "untrusted_issuer"),
    ({"iss": A_ISS + "/"}, "untrusted_issuer"),
    ({"sub": None}, "invalid_claims"),
    ({"sub": 4711}, "invalid_claims"),
    ({"sub": ["alice"]}, "invalid_claims"),
    ({"sub": ""}, "invalid_claims"),
    ({"sub": "alice\nX-LLMoin-Tenant: bayern"}, "invalid_claims"),
    ({"sub": "a" * 300}, "invalid_claims"),
], ids=["aud-of-b", "aud-array-without-ours", "aud-missing", "aud-array-with-number",
        "unknown-iss", "iss-missing", "iss-trailing-slash", "sub-missing", "sub-number",
        "sub-array", "sub-empty", "sub-control-chars", "sub-300-bytes"])
def test_token_with_wrong_claims_is_refused(stack, a, changes, code):
    chat_refused(stack, a.token("sh-rs", **changes), 401, code)


# --- size limits --------------------------------------------------------------------

def token_of_length(a, length):
    """A valid token exactly `length` characters long (a padding claim and a
    padding header member make every length reachable)."""
    for header_pad in range(4):
        header = {"alg": "RS256", "kid": "sh-rs", "x": "y" * header_pad}
        fixed = len(b64u(compact(header))) + 2 + 342   # two dots, RS256-2048 signature
        claims = a.claims(pad="")
        target = (length - fixed) * 3 // 4 - len(compact(claims))
        for pad in range(max(0, target - 4), target + 5):
            claims["pad"] = "p" * pad
            if len(b64u(compact(claims))) + fixed == length:
                token = a.raw(header, claims)
                assert len(token) == length
                return token
    raise AssertionError(f"no token of length {length}")


def test_token_over_nginx_header_buffer_is_431(stack, a):
    """20 KiB: over the 16 KiB token limit, but with nginx's default
    large_client_header_buffers (8k) nginx itself refuses the header line
    first, with 431 (observed), never 401: the module is not reached."""
    token = token_of_length(a, 20 * 1024)

    chat_refused(stack, token, 431, "headers_too_large")


def test_token_over_16_kib_is_refused_by_the_module(stack, a, node):
    token = token_of_length(a, 16 * 1024 + 1)
    url = node["big_url"]

    error = refused(stack, lambda: requests.post(
        f"{url}/v1/chat/completions", timeout=15,
        json={"model": SIM_MODEL, "messages": [{"role": "user", "content": "Hallo"}]},
        headers={"Authorization": f"Bearer {token}"}), 401, "invalid_token", token)
    assert "too long" in error["message"]


def test_token_of_exactly_16_kib_passes(stack, a, node):
    token = token_of_length(a, 16 * 1024)
    before = sim_requests(stack)

    response = requests.post(
        f"{node['big_url']}/v1/chat/completions", timeout=15,
        json={"model": SIM_MODEL, "messages": [{"role": "user", "content": "Hallo"}]},
        headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200, response.text
    assert sim_requests(stack) == before + 1


def test_64_kb_header_is_431_and_the_gateway_lives_on(stack, a):
    token = a.token("sh-rs")
    refused(stack, lambda: stack.chat(token, headers={"X-Padding": "p" * 65536}), 431,
            "headers_too_large", token)
    refused(stack, lambda: stack.chat(None, headers={"Authorization": "Bearer " + "e" * 65536}),
            431, "headers_too_large")

    admitted_once(stack, token)
    assert "exited on signal" not in (stack.state / "nginx/logs/error.log").read_text()


# --- where the credential may be ------------------------------------------------------

@pytest.mark.parametrize("parameter", ["access_token", "api_key"])
def test_credential_in_the_query_string_is_not_accepted(stack, tenants, parameter):
    credential = (tenants["a"].token("sh-rs") if parameter == "access_token"
                  else tenants["keys"][A_SLUG])
    url = f"{stack.url}/v1/chat/completions?{parameter}={credential}"

    refused(stack, lambda: requests.post(url, timeout=15, json={
        "model": SIM_MODEL, "messages": [{"role": "user", "content": "Hallo"}]}),
        401, "missing_api_key", credential)
    assert credential not in (stack.state / "nginx/logs/access.log").read_text()


def test_two_authorization_headers_are_refused(stack, tenants):
    token_a = tenants["a"].token("sh-rs")
    token_b = tenants["b"].token("by-rs")
    before = sim_requests(stack)

    status, content_type, body = raw_request(stack, "GET", "/v1/models", [
        ("Authorization", f"Bearer {token_b}"), ("Authorization", f"Bearer {token_a}")])

    assert (status, content_type) == (400, "application/json")
    assert json.loads(body)["error"]["code"] == "bad_request"
    assert token_a not in body and token_b not in body
    assert sim_requests(stack) == before


@pytest.mark.parametrize("header", ["X-LLMoin-Tenant", "X-LLMoin-User"])
def test_client_llmoin_header_with_a_valid_token_is_400(stack, a, header):
    token = a.token("sh-rs")

    error = refused(stack, lambda: stack.chat(token, headers={header: B_SLUG}), 400,
                    "reserved_header", token)
    assert header in error["message"]


# --- one state never gets into another's tenant ----------------------------------------

def test_token_of_b_on_as_host_is_wrong_tenant(stack, b):
    token = b.token("by-rs")

    chat_refused(stack, token, 401, "wrong_tenant", headers={"Host": A_HOST})


@pytest.mark.parametrize("host", [A_HOST.upper(), A_HOST + ".", A_HOST + ":443"])
def test_token_of_b_on_a_spelling_of_as_host_is_wrong_tenant(stack, b, host):
    chat_refused(stack, b.token("by-rs"), 401, "wrong_tenant", headers={"Host": host})


def test_api_key_of_a_on_bs_host_is_wrong_tenant(stack, tenants):
    chat_refused(stack, tenants["keys"][A_SLUG], 401, "wrong_tenant", headers={"Host": B_HOST})


def test_token_of_a_on_as_own_host_passes(stack, a):
    before = stack.sim_tenant(A_SLUG)["requests"]

    admitted_once(stack, a.token("sh-ps"), headers={"Host": A_HOST})

    assert stack.sim_tenant(A_SLUG)["requests"] == before + 1


def test_bs_token_is_counted_for_b_only(stack, b):
    before = stack.sim_stats()["tenants"]

    admitted_once(stack, b.token("by-rs"))

    after = stack.sim_stats()["tenants"]
    changed = [slug for slug in after
               if after[slug]["requests"] != before.get(slug, {}).get("requests", 0)]
    assert changed == [B_SLUG]


# --- what the inference tier sees -------------------------------------------------------

def capture_chat(stack, node, token):
    capture = node["capture"]
    count = len(capture.requests)
    before = sim_requests(stack)
    response = stack.chat(token, model=CAPTURE_MODEL)
    assert response.status_code == 200, response.text
    assert len(capture.requests) == count + 1
    assert sim_requests(stack) == before
    return capture.requests[-1]


def test_upstream_sees_a_pseudonym_and_never_the_token(stack, node, a, b):
    user = f"max.mustermann-{uuid.uuid4().hex[:8]}@sh.example"
    token_1 = a.token("sh-rs", sub=user)
    token_2 = a.token("sh-es", sub=user)
    token_b = b.token("by-rs", sub=user)

    seen_1 = capture_chat(stack, node, token_1)
    seen_2 = capture_chat(stack, node, token_2)
    seen_b = capture_chat(stack, node, token_b)

    pseudonym = seen_1["headers"]["X-LLMoin-User"]
    assert pseudonym and user not in pseudonym and "max.mustermann" not in pseudonym
    assert seen_1["headers"]["X-LLMoin-Tenant"] == A_SLUG
    assert seen_2["headers"]["X-LLMoin-User"] == pseudonym, "pseudonym not stable per user"
    assert seen_b["headers"]["X-LLMoin-Tenant"] == B_SLUG
    assert seen_b["headers"]["X-LLMoin-User"] != pseudonym, \
        "the same user id in two tenants must give unrelated pseudonyms"
    for seen, token in ((seen_1, token_1), (seen_2, token_2), (seen_b, token_b)):
        assert seen["headers"].get("Authorization", "") == ""
        everything = seen["raw_headers"] + seen["body"]
        assert token.split(".")[2] not in everything
        assert user not in everything


# --- what tenantd lets a tenant trust ---------------------------------------------------

def test_an_issuer_of_one_tenant_cannot_be_claimed_by_another(stack, a, b):
    before = sim_requests(stack)
    other = Idp(A_ISS, B_AUD)
    other.add_key("by-takeover", "RS256")

    error = admin(stack, "POST", f"/admin/v1/tenants/{B_SLUG}/issuers",
                  {"issuer": A_ISS, "audience": B_AUD, "jwks": other.jwks()}, expect=(409,))

    assert error["error"]["code"] == "issuer_taken"
    time.sleep(1.0)   # a snapshot, were one written, would have reached the gateway
    chat_refused(stack, other.token("by-takeover"), 401, "unknown_key")
    assert sim_requests(stack) == before


def rsa_jwk_with(private_key, **members):
    document = public_jwk(private_key, "bad-1", "RS256")
    document.update(members)
    return document


UNUSABLE_JWKS = {
    "private-rsa-key": lambda: {"keys": [json.loads(RSAAlgorithm.to_jwk(new_key("RS256")))
                                         | {"kid": "bad-1", "alg": "RS256"}]},
    "private-ec-key-next-to-a-good-one": lambda: {"keys": [
        json.loads(ECAlgorithm.to_jwk(new_key("ES256"))) | {"kid": "bad-1"},
        public_jwk(new_key("RS256"), "good-1", "RS256")]},
    "symmetric-key-only": lambda: {"keys": [{"kty": "oct", "kid": "bad-1", "alg": "HS256",
                                             "k": b64u(b"s" * 32)}]},
    "rsa-1024": lambda: {"keys": [public_jwk(
        rsa.generate_private_key(public_exponent=65537, key_size=1024), "bad-1", "RS256")]},
    "rs384-pinned": lambda: {"keys": [rsa_jwk_with(new_key("RS256"), alg="RS384")]},
    "encryption-key": lambda: {"keys": [rsa_jwk_with(new_key("RS256"), use="enc")]},
    "duplicate-kid": lambda: {"keys": [public_jwk(new_key("RS256"), "dup", "RS256"),
                                       public_jwk(new_key("ES256"), "dup", "ES256")]},
    "ec-coordinate-shorter-than-32-octets": lambda: {"keys": [ec_jwk_with_short_x()]},
}


def ec_jwk_with_short_x():
    """A real P-256 key whose x starts with a zero octet, published the way
    PyJWT 2.6 does: x as 31 octets (RFC 7518 6.2.1.2 requires 32)."""
    while True:
        key = new_key("ES256")
        document = public_jwk(key, "bad-1", "ES256")
        numbers = key.public_key().public_numbers()
        if numbers.x < 2 ** 248:
            document["x"] = b64u(numbers.x.to_bytes(31, "big"))
            return document


@pytest.mark.parametrize("jwks", UNUSABLE_JWKS.values(), ids=UNUSABLE_JWKS.keys())
def test_issuer_with_unusable_keys_is_refused_by_tenantd(stack, tenants, jwks):
    error = admin(stack, "POST", f"/admin/v1/tenants/{C_SLUG}/issuers",
                  {"issuer": f"https://idp-{uuid.uuid4().hex[:8]}.sl.example",
                   "audience": C_AUD, "jwks": jwks()}, expect=(400,))

    assert error["error"]["code"] == "invalid_body"
    assert '"d"' not in json.dumps(error)


@pytest.mark.parametrize("url", ["http://idp.sl.example", "http://127.0.0.2:8080",
                                 "ftp://127.0.0.1/jwks", "https://idp.sl.example/\nx"])
def test_issuer_url_must_be_https_or_loopback_http(stack, tenants, url):
    idp = Idp(url, C_AUD)
    idp.add_key("u-1", "RS256")

    error = admin(stack, "POST", f"/admin/v1/tenants/{C_SLUG}/issuers",
                  {"issuer": idp.issuer, "audience": C_AUD, "jwks": idp.jwks()}, expect=(400,))

    assert error["error"]["code"] == "invalid_body"


# --- a snapshot change no worker may miss ---------------------------------------------------

# A regression test: the gateway once decided a snapshot file was unchanged
# when inode, mtime in whole seconds and size were equal. tenantd replaces the
# file by rename(), and ext4 hands the freed inode to the next replacement:
# two snapshots written within one second with the same size (suspend, then
# shorten a host name by 3 characters) looked identical, and the suspended
# tenant kept reaching the pool. The module now also compares the
# nanoseconds of mtime and ctime.


def snapshot_signature(stack, contains):
    """(inode, mtime second, size) of the snapshot file once it contains
    `contains` (tenantd writes it a few ms after the API call returns)."""
    path = stack.state / "run" / "snapshot.json"
    wait_until(lambda: contains in path.read_text(), timeout=2.0, interval=0.002,
               what=f"snapshot with {contains}")
    info = path.stat()
    return info.st_ino, int(info.st_mtime), info.st_size


def test_suspension_is_not_missed_when_two_snapshots_look_alike(stack, node):
    """Suspending a tenant must reach every worker within 2 s, even when the
    next snapshot, written in the same second, has the same size as the one
    the workers hold and gets its inode back (the file system may reuse it).
    The scenario needs a worker to look at the file between the first write
    and the second, which depends on the phase of its once-a-second timer: it
    is tried up to five times, each time with new workers started at a random
    moment (nginx reloaded)."""
    slug = "mecklenburg"
    create_tenant(stack, slug)
    key = admin(stack, "POST", f"/admin/v1/tenants/{slug}/keys", {"user": "u"},
                expect=(201,))["key"]
    host = {"long": "mv-aaaaaa.example", "short": "mv-aaa.example", "other": "mv-bbbbbb.example"}
    alike = 0
    for _ in range(5):
        time.sleep(random.uniform(0.0, 1.0))
        stack.ops("reload-nginx")
        admin(stack, "PATCH", f"/admin/v1/tenants/{slug}", {"hosts": [host["other"]]})
        wait_key_works(stack, key)
        time.sleep(1.0 - time.time() % 1.0 + 0.02)         # a fresh second
        admin(stack, "PATCH", f"/admin/v1/tenants/{slug}", {"hosts": [host["long"]]})
        held = snapshot_signature(stack, host["long"])      # the workers load this one
        time.sleep(max(0.0, 0.86 - time.time() % 1.0))
        changed_at = time.monotonic()
        admin(stack, "POST", f"/admin/v1/tenants/{slug}/suspend", {})
        snapshot_signature(stack, f'"slug":"{slug}","status":"suspended"')
        admin(stack, "PATCH", f"/admin/v1/tenants/{slug}", {"hosts": [host["short"]]})
        written = snapshot_signature(stack, host["short"])   # 3 characters shorter
        alike += written == held

        time.sleep(max(0.0, changed_at + 2.0 - time.monotonic()))
        before = sim_requests(stack)
        answers = [stack.chat(key, max_tokens=1).status_code for _ in range(10)]
        answers += [stack.models(key).status_code for _ in range(10)]
        assert answers == [403] * 20, f"suspended tenant admitted 2 s later: {answers}"
        assert sim_requests(stack) == before
        admin(stack, "POST", f"/admin/v1/tenants/{slug}/resume", {})
    if not alike:
        pytest.skip("the file system gave no snapshot back its inode: scenario not built")


# --- API keys: revoked, expired, scoped ----------------------------------------------------

def test_revoked_api_key_is_refused_within_2_seconds(stack, tenants):
    key = admin(stack, "POST", f"/admin/v1/tenants/{C_SLUG}/keys", {"user": "revoked"},
                expect=(201,))
    wait_key_works(stack, key["key"])
    admitted_once(stack, key["key"])

    admin(stack, "POST", f"/admin/v1/keys/{key['id']}/revoke", {})
    refused_everywhere_within(stack, time.monotonic(), 2.0, key["key"], 401,
                              "invalid_api_key", "revoked key refused")

    chat_refused(stack, key["key"], 401, "invalid_api_key")


def test_expired_api_key_is_refused(stack, tenants):
    expires = (datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
               + datetime.timedelta(seconds=5))
    key = admin(stack, "POST", f"/admin/v1/tenants/{C_SLUG}/keys",
                {"user": "temporary", "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ")},
                expect=(201,))
    wait_key_works(stack, key["key"])

    def refused_now():
        response = stack.models(key["key"])
        return [response] if response.status_code != 200 else None

    [response] = wait_until(refused_now, timeout=8.0, interval=0.05, what="key expired")

    assert time.time() >= expires.timestamp()
    assert error_of(response, 401)["code"] == "expired_api_key"
    chat_refused(stack, key["key"], 401, "expired_api_key")


def test_api_key_scoped_to_a_model_cannot_use_another(stack, tenants):
    key = admin(stack, "POST", f"/admin/v1/tenants/{C_SLUG}/keys",
                {"user": "scoped", "models": [SIM_MODEL]}, expect=(201,))
    wait_key_works(stack, key["key"])

    error = chat_refused(stack, key["key"], 403, "model_not_allowed", model=OTHER_MODEL)
    assert OTHER_MODEL in error["message"]
    admitted_once(stack, key["key"], model=SIM_MODEL)


def test_token_user_of_a_restricted_tenant_cannot_use_another_model(stack, node):
    slug = "sachsen"
    idp = Idp("https://idp.sn.example", "llmoin-sn")
    idp.add_key("sn-1", "ES256")
    create_tenant(stack, slug)
    add_issuer(stack, slug, idp)
    admin(stack, "POST", f"/admin/v1/tenants/{slug}/models", {"alias": SIM_MODEL})
    wait_token_works(stack, lambda: idp.token("sn-1"))

    chat_refused(stack, idp.token("sn-1"), 403, "model_not_allowed", model=OTHER_MODEL)
    admitted_once(stack, idp.token("sn-1"), model=SIM_MODEL)


# --- changes that must not be cached away -------------------------------------------------

def test_suspending_a_tenant_stops_a_token_that_worked_within_2_seconds(stack, node):
    slug = "thueringen"
    idp = Idp("https://idp.th.example", "llmoin-th")
    idp.add_key("th-1", "RS256")
    create_tenant(stack, slug)
    add_issuer(stack, slug, idp)
    token = idp.token("th-1")
    wait_token_works(stack, lambda: token)
    admitted_once(stack, token)          # now in the workers' token caches
    admitted_once(stack, token)

    admin(stack, "POST", f"/admin/v1/tenants/{slug}/suspend", {})
    refused_everywhere_within(stack, time.monotonic(), 2.0, token, 403, "tenant_suspended",
                              "suspension in force for a cached token")

    chat_refused(stack, token, 403, "tenant_suspended")
    chat_refused(stack, idp.token("th-1"), 403, "tenant_suspended")

    admin(stack, "POST", f"/admin/v1/tenants/{slug}/resume", {})
    wait_token_works(stack, lambda: token)
    admitted_once(stack, token)


def test_removing_the_issuer_refuses_its_tokens_within_2_seconds(stack, node):
    slug = "bremen"
    idp = Idp("https://idp.hb.example", "llmoin-hb")
    idp.add_key("hb-1", "PS256")
    create_tenant(stack, slug)
    issuer = add_issuer(stack, slug, idp)
    token = idp.token("hb-1")
    wait_token_works(stack, lambda: token)
    admitted_once(stack, token)          # cached

    admin(stack, "DELETE", f"/admin/v1/issuers/{issuer['id']}")
    refused_everywhere_within(stack, time.monotonic(), 2.0, token, 401, "untrusted_issuer",
                              "removed issuer's token refused")

    chat_refused(stack, token, 401, "untrusted_issuer")
    chat_refused(stack, idp.token("hb-1"), 401, "untrusted_issuer")


def test_issuer_with_jwks_uri_gets_its_keys(stack, node):
    """(Until 0805935, tenantd tested the key count after freeing the keys:
    every jwks_uri fetch failed with 'holds no usable signing key'.)"""
    slug = "brandenburg"
    server = JwksServer()
    try:
        idp = Idp(f"http://127.0.0.1:{server.server.server_address[1]}/realms/bb",
                  "llmoin-bb")
        key = idp.add_key("bb-1", "ES256")
        server.keys = [public_jwk(key, "bb-1", "ES256")]
        create_tenant(stack, slug)
        issuer = add_issuer(stack, slug, idp, jwks_uri=server.url)

        def fetched():
            listed = admin(stack, "GET", f"/admin/v1/tenants/{slug}/issuers")["data"]
            document = next(i for i in listed if i["id"] == issuer["id"])
            return document if document["jwks_fetched_at"] else None

        document = wait_until(fetched, timeout=3.0, what="JWKS fetched")
        assert server.hits >= 1
        assert (document["jwks_error"], document["keys"]) == (None, 1)
        wait_token_works(stack, lambda: idp.token("bb-1"))
        admitted_once(stack, idp.token("bb-1"))
    finally:
        server.close()


def test_key_rotation_through_jwks_uri(stack, node):
    """K1 served; a K2 token is unknown_key; once the IdP publishes K2, the
    gateway's hint makes tenantd refetch (at most every 10 s per issuer) and
    a fresh K2 token passes. Hints do not make tenantd hammer the IdP."""
    slug = "hessen"
    server = JwksServer()
    try:
        idp = Idp(f"http://127.0.0.1:{server.server.server_address[1]}/realms/hessen",
                  "llmoin-he")
        k1 = idp.add_key("he-k1", "RS256")
        server.keys = [public_jwk(k1, "he-k1", "RS256")]
        create_tenant(stack, slug)
        add_issuer(stack, slug, idp, jwks_uri=server.url)
        wait_token_works(stack, lambda: idp.token("he-k1"), timeout=5.0)
        assert server.hits >= 1

        idp.add_key("he-k2", "ES256")
        chat_refused(stack, idp.token("he-k2"), 401, "unknown_key")

        server.keys = [public_jwk(k1, "he-k1", "RS256"),
                       public_jwk(idp.keys["he-k2"][0], "he-k2", "ES256")]
        hits = server.hits
        before = sim_requests(stack)
        started = time.monotonic()
        wait_until(lambda: stack.models(idp.token("he-k2")).status_code == 200,
                   timeout=15.0, interval=0.25, what="rotated key K2 accepted")
        elapsed = time.monotonic() - started
        time.sleep(WORKER_POLL)

        assert sim_requests(stack) == before
        # ~60 hints in that time, but at most one fetch per 10 s
        assert 1 <= server.hits - hits <= 1 + int(elapsed // 10), (server.hits - hits, elapsed)
        admitted_once(stack, idp.token("he-k2"))
        admitted_once(stack, idp.token("he-k1"))
    finally:
        server.close()


def test_no_worker_crashed(stack, tenants):
    assert stack.models(tenants["keys"][A_SLUG]).status_code == 200
    assert "exited on signal" not in (stack.state / "nginx/logs/error.log").read_text()
