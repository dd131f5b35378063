"""The management API as its two audiences reach it over HTTPS: operators
with a token of the provider's issuer, tenant admins with a token of their
tenant's issuer.

enable_https(stack, directory) gives the node's tenantd a self-signed
certificate and the provider's issuer (written to tenantd/local.conf, which
ops/stack appends to tenantd's configuration) and restarts it. nginx's
/dev-idp/ proxy speaks plain HTTP to tenantd, so a node with HTTPS has no
development identity provider behind nginx; tests that need both use two
nodes.
"""

import json

import requests

from identity import Idp, write_tls_files
from llmoin_stack import UnixHTTPConnection

PROVIDER_ISSUER = "https://login.dataport.example/realms/llmoin-operators"
PROVIDER_AUDIENCE = "llmoin-admin"
OPERATOR_ROLE = "llmoin-operator"
ADMIN_ROLE = "llmoin-admin"


def on_socket_with_headers(stack, method, path, body=None):
    """(status, document, headers) of a call over tenantd's unix socket (an
    operator); body is a JSON value, or bytes sent as they are."""
    if body is not None and not isinstance(body, bytes):
        body = json.dumps(body).encode()
    connection = UnixHTTPConnection(stack.env["LLMOIN_SOCKET"])
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    return response.status, (json.loads(data) if data else None), response.headers


def on_socket(stack, method, path, body=None):
    """(status, document) of a call over tenantd's unix socket (an operator)."""
    status, document, _ = on_socket_with_headers(stack, method, path, body)
    return status, document


class ManagementAPI:
    """tenantd over HTTPS, and the identity providers whose tokens it takes."""

    def __init__(self, stack, directory):
        self.stack = stack
        self.cert, key = write_tls_files(directory)
        self.provider = Idp(PROVIDER_ISSUER, PROVIDER_AUDIENCE)
        self.provider.add_key("provider-1", "RS256")
        jwks = directory / "operator-jwks.json"
        jwks.write_text(json.dumps(self.provider.jwks()))
        (stack.state / "tenantd" / "local.conf").write_text(
            f"operator_issuer = {PROVIDER_ISSUER}\n"
            f"operator_jwks = {jwks}\n"
            f"tls_cert = {self.cert}\n"
            f"tls_key = {key}\n")
        stack.restart("tenantd")
        self.base = f"https://127.0.0.1:{stack.env['LLMOIN_TENANTD_PORT']}"
        self.idps = {}

    def operator_token(self, user="ops-anna", roles=(OPERATOR_ROLE,), **claims):
        return self.provider.token("provider-1", sub=user, roles=list(roles), **claims)

    def trust_tenant_idp(self, slug):
        """A new identity provider trusted by tenant slug (keys inline)."""
        idp = Idp(f"https://login.{slug}.example/realms/llmoin", f"llmoin-{slug}")
        idp.add_key(f"{slug}-1", "RS256")
        status, document = on_socket(self.stack, "POST", f"/admin/v1/tenants/{slug}/issuers",
                                     {"issuer": idp.issuer, "audience": idp.audience,
                                      "jwks": idp.jwks()})
        assert status == 201, document
        self.idps[slug] = (idp, document["id"])
        return idp

    def admin_token(self, slug, user="admin", roles=(ADMIN_ROLE,), **claims):
        idp = self.idps[slug][0]
        return idp.token(f"{slug}-1", sub=user, roles=list(roles), **claims)

    def call(self, method, path, token=None, body=None, params=None, headers=None):
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, self.base + path, json=body, params=params,
                                headers=all_headers, verify=str(self.cert), timeout=30)
