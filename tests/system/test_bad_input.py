"""Bad input to tenantd's management API and to llmoinctl: every refusal is
exact, and a refused request leaves nothing behind.

Each case is one row of a table. An API row says what is sent (method, path,
body) and the whole answer expected: the status and the error document, its
code and message word for word. A CLI row says the command line and the exit
code and the one line on standard error expected, and whether the command
reaches tenantd at all: one that llmoinctl must refuse on its own (exit 2)
sends nothing, which tenantd's log of requests shows.

After every case the stored state is what it was before: every row of every
table the management API writes, the audit log among them (stored_state).

Rows that were bugs when this suite was written (report ranges with one
default end, host names with empty or dashed labels, an encoded '/' in a
path, 405 without Allow) are fixed and stay here as ordinary rows.

Placeholders in paths, bodies, command lines and messages ({key_id}, files
under {files}/, dates, ...) are filled in from the `world` fixture.
"""

import datetime
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import zoneinfo

import psycopg2
import pytest

from identity import new_key, public_jwk
from llmoin_stack import BUILD, SIM_MODEL
from management import on_socket_with_headers

HAMBURG_ISSUER = "https://login.hamburg.example/realms/llmoin"
SLUG_HELP = "2 to 32 lowercase letters, digits or dashes, starting with a letter"
HOST_HELP = ("a host name in lowercase, e.g. llmoin.hamburg.de (labels of 1 to 63 letters, "
             "digits or dashes, no dash first or last)")
URL_HELP = "an https URL (http only for 127.0.0.1 or localhost)"
CLAIM_HELP = "a claim name of letters, digits and _ . : -"
RANGE_64 = "integers must be from -9223372036854775808 to 9223372036854775807"
SLUG_RULE = ("must match ^[a-z][a-z0-9-]{1,31}$ (a lowercase letter, then 1-31 lowercase "
             "letters, digits or '-')")
HOST_RULE = ("expected a host name in lowercase such as llmoin.hamburg.de (a-z, 0-9, '.' "
             "and '-' inside, at most 253)")
URL_RULE = ("expected an https URL such as https://login.example.de/realms/llmoin, without "
            "blanks (http only for 127.0.0.1 or localhost)")
KEY_ID_RULE = ("expected a key id like key_0123456789abcdef (letters, digits, '_' and '-', "
               "at most 64)")
LIMIT_RULE = "or none to lift the limit"
SECRET_KEY = "lmk_AbCdSECRETsecretSECRETsecretSECRETsecret1"


# A body one byte larger than tenantd's max_body_bytes (known once the node
# runs), made by encode(): a JSON object, so only its size is wrong.
TOO_LARGE = object()


# --- the management API ---------------------------------------------------------------
#
# (id, method, path, body, status, code, message). body: None sends none;
# str or bytes are sent as they are; anything else as JSON.

TENANTS = "/admin/v1/tenants"
HAMBURG = "/admin/v1/tenants/hamburg"
KEYS = HAMBURG + "/keys"
ISSUERS = HAMBURG + "/issuers"
LIMITS = HAMBURG + "/limits"
ALLOWED = HAMBURG + "/models"
USAGE = HAMBURG + "/usage"
MONTHLY = "/admin/v1/reports/monthly"
APPLY = "/admin/v1/apply"
NEW = {"slug": "bremerhaven", "name": "Bremerhaven"}
AN_ISSUER = {"issuer": "https://login.bremerhaven.example/realms/llmoin", "audience": "llmoin",
             "jwks_uri": "https://login.bremerhaven.example/realms/llmoin/certs"}
USER_LIMIT = {"scope": "user", "subject": "alice"}

API_CASES = [
    # -- the body is not JSON, or not an object
    ("truncated_json", "POST", TENANTS, '{"slug": "bremerhaven", "name": "Bremerhaven"',
     400, "invalid_body", "the request body is not valid JSON: '}' expected near end of file "
     "(line 1, column 45)"),
    ("trailing_garbage", "POST", TENANTS, '{"slug": "bremerhaven", "name": "B"} x',
     400, "invalid_body", "the request body is not valid JSON: end of file expected near 'x' "
     "(line 1, column 38)"),
    ("two_objects", "PATCH", HAMBURG, '{"name": "A"}{"name": "B"}',
     400, "invalid_body", "the request body is not valid JSON: end of file expected near '{' "
     "(line 1, column 14)"),
    ("array_body", "POST", TENANTS, [NEW],
     400, "invalid_body", "the request body must be a JSON object"),
    ("null_body", "POST", KEYS, "null",
     400, "invalid_body", "the request body must be a JSON object"),
    ("string_body", "PUT", LIMITS, '"rpm=1"',
     400, "invalid_body", "the request body must be a JSON object"),
    ("number_body", "POST", "/admin/v1/models", "42",
     400, "invalid_body", "the request body must be a JSON object"),
    ("single_quotes", "POST", TENANTS, "{'slug': 'bremerhaven', 'name': 'B'}",
     400, "invalid_body", "the request body is not valid JSON: string or '}' expected near "
     "''' (line 1, column 2)"),
    ("form_encoded", "POST", KEYS, "user=alice",
     400, "invalid_body", "the request body is not valid JSON: invalid token near 'user' "
     "(line 1, column 4)"),
    ("duplicate_member", "POST", TENANTS, '{"slug": "bremerhaven", "slug": "cuxhaven", '
     '"name": "B"}', 400, "invalid_body", "the request body is not valid JSON: duplicate "
     "object key near '\"slug\"' (line 1, column 30)"),
    ("not_utf8", "POST", TENANTS, b'{"slug": "bremerhaven", "name": "Bremerhaven \xff"}',
     400, "invalid_body", "the request body is not valid JSON: unable to decode byte 0xff "
     "near '\"Bremerhaven ' (line 1, column 45)"),
    ("lone_surrogate", "POST", TENANTS, '{"slug": "bremerhaven", "name": "B \\ud800"}',
     400, "invalid_body", "the request body is not valid JSON: invalid Unicode '\\uD800' "
     "near '\"B \\ud800\"' (line 1, column 42)"),
    ("nul_character", "POST", TENANTS, '{"slug": "bremerhaven", "name": "Bremer\\u0000haven"}',
     400, "invalid_body", "field 'name' must not contain \\u0000 (a NUL character)"),
    ("nul_character_deep", "POST", ISSUERS, '{"issuer": "https://login.bremerhaven.example", '
     '"audience": "llmoin", "jwks": {"keys": [{"kid": "\\u0000"}]}}',
     400, "invalid_body", "field 'jwks' must not contain \\u0000 (a NUL character)"),
    ("nul_in_member_name", "POST", TENANTS, '{"slug": "bremerhaven", "\\u0000": 1}',
     400, "invalid_body", "the request body must not contain \\u0000 (a NUL character) "
     "(line 1, column 32)"),
    # -- no body where one is needed
    ("empty_body_create", "POST", TENANTS, b"",
     400, "invalid_body", "the request body is empty; a JSON object is required"),
    ("no_body_update", "PATCH", HAMBURG, None,
     400, "invalid_body", "the request body is empty; a JSON object is required"),
    ("blank_body_key", "POST", KEYS, " \r\n\t ",
     400, "invalid_body", "the request body is empty; a JSON object is required"),
    ("empty_body_offboard", "POST", HAMBURG + "/offboard", b"",
     400, "invalid_body", "the request body is empty; a JSON object is required"),
    # -- unknown fields
    ("unknown_field_create", "POST", TENANTS, {**NEW, "owner": "Senat"},
     400, "invalid_body", "unknown field 'owner'"),
    ("status_not_patchable", "PATCH", HAMBURG, {"status": "suspended"},
     400, "invalid_body", "unknown field 'status'"),
    ("unknown_field_limits", "PUT", LIMITS, {**USER_LIMIT, "rpm": 1, "burst": 5},
     400, "invalid_body", "unknown field 'burst'"),
    ("unknown_field_key", "POST", KEYS, {"user": "alice", "scopes": ["chat"]},
     400, "invalid_body", "unknown field 'scopes'"),
    ("field_name_case", "POST", TENANTS, {"Slug": "bremerhaven", "name": "B"},
     400, "invalid_body", "unknown field 'Slug'"),
    ("empty_field_name", "PUT", LIMITS, {**USER_LIMIT, "": 1},
     400, "invalid_body", "unknown field ''"),
    ("unknown_field_apply", "POST", APPLY, {**NEW, "owner": "Senat"},
     400, "invalid_body", "unknown field 'owner': a document has slug, name, hosts, settings, "
     "issuers, models and limits"),
    # -- wrong types: string, integer, boolean, array, object fields
    ("string_given_integer", "POST", TENANTS, {"slug": 5, "name": "B"},
     400, "invalid_body", "field 'slug' must be a string"),
    ("string_given_array", "POST", "/admin/v1/models", {"alias": ["x"], "pool": "default"},
     400, "invalid_body", "field 'alias' must be a string"),
    ("string_not_null", "PATCH", HAMBURG, {"name": None},
     400, "invalid_body", "field 'name' must be a string"),
    ("nullable_string_given_number", "POST", KEYS, {"user": "alice", "name": 5},
     400, "invalid_body", "field 'name' must be a string or null"),
    ("integer_given_string", "PATCH", HAMBURG, {"max_tokens_cap": "4096"},
     400, "invalid_body", "field 'max_tokens_cap' must be an integer"),
    ("integer_given_real", "PUT", LIMITS, {**USER_LIMIT, "rpm": 1.5},
     400, "invalid_body", "field 'rpm' must be an integer or null"),
    ("integer_given_whole_real", "PUT", LIMITS, {**USER_LIMIT, "tpm": 1000.0},
     400, "invalid_body", "field 'tpm' must be an integer or null"),
    ("integer_given_boolean", "PUT", LIMITS, {**USER_LIMIT, "concurrent": True},
     400, "invalid_body", "field 'concurrent' must be an integer or null"),
    ("integer_given_string_leeway", "POST", ISSUERS, {**AN_ISSUER, "leeway_seconds": "60"},
     400, "invalid_body", "field 'leeway_seconds' must be an integer"),
    ("boolean_given_string", "PATCH", HAMBURG, {"models_restricted": "true"},
     400, "invalid_body", "field 'models_restricted' must be true or false"),
    ("boolean_given_integer", "PATCH", HAMBURG, {"models_restricted": 1},
     400, "invalid_body", "field 'models_restricted' must be true or false"),
    ("array_given_string", "PATCH", HAMBURG, {"hosts": "llmoin.hamburg.de"},
     400, "invalid_body", "field 'hosts' must be an array"),
    ("array_given_object", "POST", KEYS, {"user": "alice", "models": {"alias": SIM_MODEL}},
     400, "invalid_body", "field 'models' must be an array or null"),
    ("array_of_numbers", "PATCH", HAMBURG, {"hosts": ["llmoin.hamburg.de", 443]},
     400, "invalid_body", "field 'hosts' must hold strings only"),
    ("array_of_null", "POST", KEYS, {"user": "alice", "models": [None]},
     400, "invalid_body", "field 'models' must hold strings only"),
    ("object_given_array", "POST", ISSUERS, {**AN_ISSUER, "jwks_uri": None, "jwks": [{}]},
     400, "invalid_body", "field 'jwks' must be an object or null"),
    ("apply_section_not_a_list", "POST", APPLY, {**NEW, "issuers": AN_ISSUER},
     400, "invalid_body", "field 'issuers' must be a list of objects"),
    ("apply_entry_not_an_object", "POST", APPLY, {**NEW, "models": [SIM_MODEL]},
     400, "invalid_body", "models[0] must be an object"),
    # -- too long
    ("slug_too_long", "POST", TENANTS, {"slug": "b" * 33, "name": "B"},
     400, "invalid_body", "field 'slug' must be at most 32 characters long"),
    ("name_too_long", "POST", TENANTS, {"slug": "bremerhaven", "name": "ä" * 201},
     400, "invalid_body", "field 'name' must be at most 200 characters long"),
    ("url_too_long", "POST", ISSUERS, {**AN_ISSUER, "issuer": "https://" + "a" * 493},
     400, "invalid_body", "field 'issuer' must be at most 500 characters long"),
    ("subject_too_long", "PUT", LIMITS, {"scope": "group", "subject": "g" * 201, "rpm": 1},
     400, "invalid_body", "field 'subject' must be at most 200 characters long"),
    ("subject_too_many_bytes", "PUT", LIMITS, {"scope": "user", "subject": "ü" * 150, "rpm": 1},
     400, "invalid_body", "field 'subject' must be at most 255 bytes long in UTF-8"),
    ("host_too_long", "PATCH", HAMBURG, {"hosts": ["a" * 251 + ".de"]},
     400, "invalid_body", "field 'hosts' must be at most 253 characters long"),
    ("too_many_hosts", "PATCH", HAMBURG, {"hosts": [f"h{i}.hamburg.de" for i in range(17)]},
     400, "invalid_body", "field 'hosts' may hold at most 16 entries"),
    ("too_many_groups", "POST", HAMBURG + "/dev-token",
     {"user": "alice", "groups": [f"g{i}" for i in range(33)]},
     400, "invalid_body", "field 'groups' may hold at most 32 entries"),
    ("confirm_too_long", "POST", HAMBURG + "/offboard", {"confirm": "h" * 33},
     400, "invalid_body", "field 'confirm' must be at most 32 characters long"),
    # -- patterns: slug, host names, URLs, claims, names of models and pools, choices
    ("slug_uppercase", "POST", TENANTS, {"slug": "Bremerhaven", "name": "B"},
     400, "invalid_body", f"field 'slug' must be {SLUG_HELP}"),
    ("slug_starts_with_digit", "POST", TENANTS, {"slug": "1bremerhaven", "name": "B"},
     400, "invalid_body", f"field 'slug' must be {SLUG_HELP}"),
    ("slug_one_letter", "POST", TENANTS, {"slug": "b", "name": "B"},
     400, "invalid_body", f"field 'slug' must be {SLUG_HELP}"),
    ("slug_with_newline", "POST", TENANTS, {"slug": "bremerhaven\n", "name": "B"},
     400, "invalid_body", f"field 'slug' must be {SLUG_HELP}"),
    ("name_empty", "POST", TENANTS, {"slug": "bremerhaven", "name": ""},
     400, "invalid_body", "field 'name' must be a non-empty name without control characters"),
    ("name_control_character", "PATCH", HAMBURG, {"name": "Hamburg\x1b[2J"},
     400, "invalid_body", "field 'name' must be a non-empty name without control characters"),
    ("host_uppercase", "PATCH", HAMBURG, {"hosts": ["LLMoin.hamburg.de"]},
     400, "invalid_body", f"field 'hosts' must be {HOST_HELP}"),
    ("host_with_port", "PATCH", HAMBURG, {"hosts": ["llmoin.hamburg.de:443"]},
     400, "invalid_body", f"field 'hosts' must be {HOST_HELP}"),
    ("host_leading_dash", "PATCH", HAMBURG, {"hosts": ["-llmoin.hamburg.de"]},
     400, "invalid_body", f"field 'hosts' must be {HOST_HELP}"),
    ("issuer_plain_http", "POST", ISSUERS, {**AN_ISSUER, "issuer": "http://login.example"},
     400, "invalid_body", f"field 'issuer' must be {URL_HELP}"),
    ("jwks_uri_with_blank", "POST", ISSUERS, {**AN_ISSUER, "jwks_uri": "https://login example"},
     400, "invalid_body", f"field 'jwks_uri' must be {URL_HELP}"),
    ("issuer_not_a_url", "POST", ISSUERS, {**AN_ISSUER, "issuer": "login.bremerhaven.example"},
     400, "invalid_body", f"field 'issuer' must be {URL_HELP}"),
    ("user_claim_blank", "POST", ISSUERS, {**AN_ISSUER, "user_claim": "preferred username"},
     400, "invalid_body", f"field 'user_claim' must be {CLAIM_HELP}"),
    ("admin_claim_digit", "PATCH", HAMBURG, {"admin_claim": "1st"},
     400, "invalid_body", "field 'admin_claim' must be a claim name: a letter or _, then "
     "letters, digits, _ . : or -"),
    ("fail_mode_choice", "PATCH", HAMBURG, {"quota_fail_mode": "half"},
     400, "invalid_body", "field 'quota_fail_mode' must be closed or open"),
    ("model_alias_dash", "POST", "/admin/v1/models", {"alias": "-llama", "pool": "default"},
     400, "invalid_body", "field 'alias' must be a model name of letters, digits and . _ : / -"),
    ("pool_uppercase", "POST", "/admin/v1/models", {"alias": "llama", "pool": "GPU"},
     400, "invalid_body", "field 'pool' must be a pool name of lowercase letters, digits and "
     "underscores"),
    ("user_with_space", "POST", KEYS, {"user": "alice smith"},
     400, "invalid_body", "field 'user' must be a non-empty user id without spaces or control "
     "characters"),
    ("expiry_words", "POST", KEYS, {"user": "alice", "expires_at": "tomorrow"},
     400, "invalid_body", "field 'expires_at' must be a date or an RFC 3339 time, e.g. "
     "2027-02-27 or 2027-02-27T12:00:00Z"),
    ("expiry_no_such_day", "POST", KEYS, {"user": "alice", "expires_at": "2031-02-30"},
     400, "invalid_body", "field 'expires_at' is not a valid date or time"),
    ("expiry_in_the_past", "POST", KEYS, {"user": "alice", "expires_at": "2020-01-01"},
     400, "invalid_body", "field 'expires_at' must be in the future"),
    ("dev_token_user", "POST", HAMBURG + "/dev-token", {"user": "alice/../bob"},
     400, "invalid_body", "field 'user' must be a user name of letters, digits and . _ @ -"),
    ("scope_choice", "PUT", LIMITS, {"scope": "org", "subject": "", "rpm": 1},
     400, "invalid_body", "field 'scope' must be tenant, group, user or key"),
    ("subject_of_tenant", "PUT", LIMITS, {"scope": "tenant", "subject": "alice", "rpm": 1},
     400, "invalid_body", "field 'subject' must be \"\" for scope 'tenant' (the tenant as a "
     "whole)"),
    ("subject_of_key", "PUT", LIMITS, {"scope": "key", "subject": "alice", "rpm": 1},
     400, "invalid_body", "field 'subject' must be a key id (key_ and 16 lowercase hex digits) "
     "or \"\" for the default of every key"),
    ("subject_secret_key", "PUT", LIMITS, {"scope": "key", "subject": SECRET_KEY, "rpm": 1},
     400, "invalid_body", "field 'subject' must be a key id (key_ and 16 lowercase hex digits) "
     "or \"\" for the default of every key"),
    ("group_with_comma", "PUT", LIMITS, {"scope": "group", "subject": "a,b", "rpm": 1},
     400, "invalid_body", "field 'subject' must be a group name without commas"),
    ("jwks_without_keys", "POST", ISSUERS, {**AN_ISSUER, "jwks_uri": None, "jwks": {"k": []}},
     400, "invalid_body", "field 'jwks': a JWKS must be an object with a 'keys' array"),
    ("jwks_no_usable_key", "POST", ISSUERS, {**AN_ISSUER, "jwks_uri": None,
                                             "jwks": {"keys": []}},
     400, "invalid_body", "field 'jwks' holds no usable signing key (RSA of at least 2048 bits "
     "for RS256/PS256, or EC P-256 for ES256)"),
    # -- path parameters: slug, key id, issuer id
    ("path_slug_uppercase", "GET", "/admin/v1/tenants/Hamburg", None,
     400, "invalid_parameter", f"path parameter 'slug' must be a tenant slug: {SLUG_HELP}"),
    ("path_slug_one_letter", "PATCH", "/admin/v1/tenants/h", {"name": "H"},
     400, "invalid_parameter", f"path parameter 'slug' must be a tenant slug: {SLUG_HELP}"),
    ("path_slug_encoded_umlaut", "POST", "/admin/v1/tenants/l%C3%BCbeck/suspend", None,
     400, "invalid_parameter", f"path parameter 'slug' must be a tenant slug: {SLUG_HELP}"),
    ("path_slug_too_long", "GET", "/admin/v1/tenants/" + "h" * 33 + "/keys", None,
     400, "invalid_parameter", f"path parameter 'slug' must be a tenant slug: {SLUG_HELP}"),
    ("path_key_id_secret", "POST", f"/admin/v1/keys/{SECRET_KEY}/revoke", None,
     400, "invalid_parameter", "path parameter 'key_id' must be a key id: key_ and 16 "
     "lowercase hex digits"),
    ("path_key_id_uppercase", "POST", "/admin/v1/keys/key_0123456789ABCDEF/revoke", None,
     400, "invalid_parameter", "path parameter 'key_id' must be a key id: key_ and 16 "
     "lowercase hex digits"),
    ("path_issuer_id_zero", "DELETE", "/admin/v1/issuers/0", None,
     400, "invalid_parameter", "path parameter 'issuer_id' must be an issuer id: a positive "
     "number"),
    ("path_issuer_id_url", "DELETE", "/admin/v1/issuers/https:", None,
     400, "invalid_parameter", "path parameter 'issuer_id' must be an issuer id: a positive "
     "number"),
    ("path_issuer_id_negative", "DELETE", "/admin/v1/issuers/-1", None,
     400, "invalid_parameter", "path parameter 'issuer_id' must be an issuer id: a positive "
     "number"),
    # -- numbers out of range
    ("cap_zero", "PATCH", HAMBURG, {"max_tokens_cap": 0},
     400, "invalid_body", "field 'max_tokens_cap' must be an integer from 1 to 1000000"),
    ("cap_too_large", "PATCH", HAMBURG, {"max_tokens_cap": 1000001},
     400, "invalid_body", "field 'max_tokens_cap' must be an integer from 1 to 1000000"),
    ("cap_beyond_64_bits", "PATCH", HAMBURG, '{"max_tokens_cap": 99999999999999999999}',
     400, "invalid_body", f"field 'max_tokens_cap' is out of range: {RANGE_64}"),
    ("rpm_negative", "PUT", LIMITS, {**USER_LIMIT, "rpm": -1},
     400, "invalid_body", "field 'rpm' must be an integer from 0 to 2147483647, or null to "
     "lift the limit"),
    ("rpm_beyond_int", "PUT", LIMITS, {**USER_LIMIT, "rpm": 2147483648},
     400, "invalid_body", "field 'rpm' must be an integer from 0 to 2147483647, or null to "
     "lift the limit"),
    ("concurrent_beyond_int", "PUT", LIMITS, {**USER_LIMIT, "concurrent": 2 ** 31},
     400, "invalid_body", "field 'concurrent' must be an integer from 0 to 2147483647, or "
     "null to lift the limit"),
    ("monthly_negative", "PUT", LIMITS, {**USER_LIMIT, "monthly_tokens": -5},
     400, "invalid_body", "field 'monthly_tokens' must be an integer from 0 to "
     "9223372036854775807, or null to lift the limit"),
    ("tpm_beyond_64_bits", "PUT", LIMITS, '{"scope": "user", "subject": "alice", '
     '"tpm": 9223372036854775808}', 400, "invalid_body",
     f"field 'tpm' is out of range: {RANGE_64}"),
    ("huge_number_in_string_field", "POST", TENANTS, '{"slug": "bremerhaven", '
     '"name": 1e999}', 400, "invalid_body", "the request body holds a number too large to "
     "read: real number overflow near '1e999' (line 1, column 37)"),
    ("huge_integer_in_string_field", "POST", TENANTS, '{"slug": "bremerhaven", '
     '"name": -99999999999999999999}', 400, "invalid_body", "field 'name' must be a string"),
    ("huge_integer_in_list", "POST", KEYS, '{"user": "alice", '
     '"models": ["llmoin-sim", 18446744073709551616]}',
     400, "invalid_body", "field 'models' must hold strings only"),
    ("huge_integer_in_jwks", "POST", ISSUERS, '{"issuer": "https://login.bremerhaven.example", '
     '"audience": "llmoin", "jwks": {"keys": [{"e": 18446744073709551616}]}}',
     400, "invalid_body", "field 'jwks' holds a number beyond 64-bit integers"),
    ("leeway_too_large", "POST", ISSUERS, {**AN_ISSUER, "leeway_seconds": 601},
     400, "invalid_body", "field 'leeway_seconds' must be between 0 and 600"),
    ("leeway_negative", "POST", ISSUERS, {**AN_ISSUER, "leeway_seconds": -1},
     400, "invalid_body", "field 'leeway_seconds' must be between 0 and 600"),
    ("ttl_too_short", "POST", HAMBURG + "/dev-token", {"user": "alice", "ttl_seconds": 59},
     400, "invalid_body", "field 'ttl_seconds' must be between 60 and 86400"),
    ("ttl_too_long", "POST", HAMBURG + "/dev-token", {"user": "alice", "ttl_seconds": 86401},
     400, "invalid_body", "field 'ttl_seconds' must be between 60 and 86400"),
    ("apply_limit_out_of_range", "POST", APPLY,
     {**NEW, "limits": [{"scope": "user", "rpm": -1}]},
     400, "invalid_body", "limits[0]: field 'rpm' must be an integer from 0 to 2147483647, or "
     "null to lift the limit"),
    # -- entries given twice, objects that exist already
    ("host_twice", "PATCH", HAMBURG, {"hosts": ["a.hamburg.de", "b.hamburg.de", "a.hamburg.de"]},
     400, "invalid_body", "field 'hosts' lists 'a.hamburg.de' twice"),
    ("key_model_twice", "POST", KEYS, {"user": "alice", "models": [SIM_MODEL, SIM_MODEL]},
     400, "invalid_body", f"field 'models' lists '{SIM_MODEL}' twice"),
    ("group_twice", "POST", HAMBURG + "/dev-token", {"user": "alice", "groups": ["it", "it"]},
     400, "invalid_body", "field 'groups' lists 'it' twice"),
    ("apply_host_twice", "POST", APPLY, {**NEW, "hosts": ["bremerhaven.de", "bremerhaven.de"]},
     400, "invalid_body", "field 'hosts' lists 'bremerhaven.de' twice"),
    ("apply_model_twice", "POST", APPLY,
     {**NEW, "models": [{"alias": SIM_MODEL}, {"alias": SIM_MODEL}]},
     400, "invalid_body", f"models[1]: model {SIM_MODEL} is listed twice (also models[0])"),
    ("tenant_exists", "POST", TENANTS, {"slug": "hamburg", "name": "Hamburg again"},
     409, "tenant_exists", "tenant 'hamburg' already exists"),
    ("issuer_taken", "POST", "/admin/v1/tenants/bremen/issuers",
     {**AN_ISSUER, "issuer": HAMBURG_ISSUER},
     409, "issuer_taken", f"issuer '{HAMBURG_ISSUER}' is already bound to tenant 'hamburg'"),
    ("host_taken", "PATCH", "/admin/v1/tenants/bremen", {"hosts": ["llmoin.hamburg.de"]},
     409, "host_taken", "host 'llmoin.hamburg.de' already belongs to tenant 'hamburg'"),
    ("apply_host_taken", "POST", APPLY, {**NEW, "hosts": ["llmoin.hamburg.de"]},
     409, "host_taken", "tenant: host 'llmoin.hamburg.de' already belongs to tenant 'hamburg'"),
    # -- the body is too large (tenantd's max_body_bytes)
    ("too_large_create", "POST", TENANTS, TOO_LARGE,
     413, "body_too_large", "the request body is larger than {max_body_bytes} bytes"),
    ("too_large_apply", "POST", APPLY, TOO_LARGE,
     413, "body_too_large", "the request body is larger than {max_body_bytes} bytes"),
    ("too_large_unknown_path", "POST", "/admin/v1/nowhere", TOO_LARGE,
     413, "body_too_large", "the request body is larger than {max_body_bytes} bytes"),
    # -- required fields missing, nothing to do
    ("name_missing", "POST", TENANTS, {"slug": "bremerhaven"},
     400, "invalid_body", "field 'name' is required"),
    ("slug_missing", "POST", TENANTS, {"name": "Bremerhaven"},
     400, "invalid_body", "field 'slug' is required"),
    ("user_missing", "POST", KEYS, {"name": "Fachverfahren X"},
     400, "invalid_body", "field 'user' is required"),
    ("subject_missing", "PUT", LIMITS, {"scope": "tenant", "rpm": 1},
     400, "invalid_body", "field 'subject' is required"),
    ("no_limit_given", "PUT", LIMITS, USER_LIMIT,
     400, "invalid_body", "nothing to set: give rpm, tpm, concurrent or monthly_tokens (null "
     "lifts one)"),
    ("nothing_to_change", "PATCH", HAMBURG, {},
     400, "invalid_body", "nothing to change: give name, hosts, models_restricted, "
     "max_tokens_cap, quota_fail_mode, admin_claim or admin_value"),
    ("issuer_audience_missing", "POST", ISSUERS, {"issuer": AN_ISSUER["issuer"],
                                                  "jwks_uri": AN_ISSUER["jwks_uri"]},
     400, "invalid_body", "field 'audience' is required"),
    ("issuer_without_keys", "POST", ISSUERS, {"issuer": AN_ISSUER["issuer"],
                                              "audience": "llmoin"},
     400, "invalid_body", "give exactly one of 'jwks_uri' and 'jwks'"),
    ("issuer_with_both_keys", "POST", ISSUERS, {**AN_ISSUER, "jwks": {"keys": []}},
     400, "invalid_body", "give exactly one of 'jwks_uri' and 'jwks'"),
    ("pool_missing", "POST", "/admin/v1/models", {"alias": "llama-3.1-8b"},
     400, "invalid_body", "field 'pool' is required"),
    ("alias_missing", "POST", ALLOWED, {"pool": None},
     400, "invalid_body", "field 'alias' is required"),
    ("confirm_missing", "POST", HAMBURG + "/offboard", {},
     400, "confirmation_required", "field 'confirm' must repeat the tenant's slug, 'hamburg', "
     "to offboard it: every row, key and counter of the tenant is deleted"),
    ("confirm_other_slug", "POST", HAMBURG + "/offboard", {"confirm": "bremen"},
     400, "confirmation_required", "field 'confirm' must repeat the tenant's slug, 'hamburg', "
     "to offboard it: every row, key and counter of the tenant is deleted"),
    ("confirm_not_a_string", "POST", HAMBURG + "/offboard", {"confirm": True},
     400, "invalid_body", "field 'confirm' must be a string"),
    ("apply_name_missing", "POST", APPLY, {"slug": "bremerhaven"},
     400, "invalid_body", "field 'name' is required"),
    # -- objects that do not exist
    ("unknown_tenant_show", "GET", "/admin/v1/tenants/atlantis", None,
     404, "tenant_not_found", "tenant 'atlantis' not found"),
    ("unknown_tenant_update", "PATCH", "/admin/v1/tenants/atlantis", {"name": "Atlantis"},
     404, "tenant_not_found", "tenant 'atlantis' not found"),
    ("unknown_tenant_suspend", "POST", "/admin/v1/tenants/atlantis/suspend", None,
     404, "tenant_not_found", "tenant 'atlantis' not found"),
    ("unknown_tenant_key", "POST", "/admin/v1/tenants/atlantis/keys", {"user": "alice"},
     404, "tenant_not_found", "tenant 'atlantis' not found"),
    ("unknown_tenant_limits", "PUT", "/admin/v1/tenants/atlantis/limits",
     {**USER_LIMIT, "rpm": 1}, 404, "tenant_not_found", "tenant 'atlantis' not found"),
    ("unknown_tenant_offboard", "POST", "/admin/v1/tenants/atlantis/offboard",
     {"confirm": "atlantis"}, 404, "tenant_not_found", "tenant 'atlantis' not found"),
    ("unknown_tenant_usage", "GET", "/admin/v1/tenants/atlantis/usage", None,
     404, "tenant_not_found", "tenant 'atlantis' not found"),
    ("unknown_key", "POST", "/admin/v1/keys/key_0000000000000000/revoke", None,
     404, "key_not_found", "API key 'key_0000000000000000' not found"),
    ("key_of_no_tenant_in_limits", "PUT", LIMITS,
     {"scope": "key", "subject": "key_0000000000000000", "rpm": 1},
     404, "key_not_found", "tenant 'hamburg' has no API key 'key_0000000000000000'"),
    ("key_of_other_tenant_in_limits", "PUT", "/admin/v1/tenants/bremen/limits",
     {"scope": "key", "subject": "{key_id}", "rpm": 1},
     404, "key_not_found", "tenant 'bremen' has no API key '{key_id}'"),
    ("unknown_issuer", "DELETE", "/admin/v1/issuers/999999999", None,
     404, "issuer_not_found", "issuer 999999999 not found"),
    ("unknown_model_allowed", "POST", ALLOWED, {"alias": "llama-9-1t"},
     400, "model_not_found", "model 'llama-9-1t' does not exist"),
    ("unknown_pool_allowed", "POST", ALLOWED, {"alias": SIM_MODEL, "pool": "gpu_hamburg"},
     400, "model_or_pool_not_found", f"model '{SIM_MODEL}' or pool 'gpu_hamburg' does not "
     "exist"),
    ("unknown_pool", "POST", "/admin/v1/models", {"alias": "llama-3.1-8b", "pool": "gpu_x"},
     400, "pool_not_found", "pool 'gpu_x' does not exist"),
    ("unknown_model_for_key", "POST", KEYS, {"user": "alice", "models": ["llama-9-1t"]},
     400, "invalid_body", "model 'llama-9-1t' does not exist"),
    ("limit_row_absent", "DELETE", LIMITS + "?scope=user&subject=nobody", None,
     404, "limit_not_found", "tenant 'hamburg' has no limits for user 'nobody'"),
    ("default_row_absent", "DELETE", LIMITS + "?scope=group", None,
     404, "limit_not_found", "tenant 'hamburg' has no default limits for groups"),
    ("model_not_on_list", "DELETE", ALLOWED + "?alias=llama-9-1t", None,
     404, "model_not_allowed", "model 'llama-9-1t' is not on the list of tenant 'hamburg'"),
    ("dev_token_not_a_dev_tenant", "POST", HAMBURG + "/dev-token", {"user": "alice"},
     400, "not_a_dev_tenant", "tenant 'hamburg' does not use the development identity "
     "provider"),
    ("apply_unknown_model", "POST", APPLY, {**NEW, "models": [{"alias": "llama-9-1t"}]},
     400, "model_not_found", "models[0]: model 'llama-9-1t' does not exist"),
    # -- no such endpoint, wrong method
    ("unknown_endpoint", "GET", "/admin/v1/nowhere", None,
     404, "not_found", "no such endpoint: GET /admin/v1/nowhere"),
    ("unknown_version", "GET", "/admin/v2/tenants", None,
     404, "not_found", "no such endpoint: GET /admin/v2/tenants"),
    ("trailing_slash", "GET", "/admin/v1/tenants/hamburg/", None,
     404, "not_found", "no such endpoint: GET /admin/v1/tenants/hamburg/"),
    ("double_slash", "GET", "/admin/v1//tenants", None,
     404, "not_found", "no such endpoint: GET /admin/v1//tenants"),
    ("unknown_sub_resource", "POST", HAMBURG + "/archive", {},
     404, "not_found", "no such endpoint: POST /admin/v1/tenants/hamburg/archive"),
    ("delete_tenant", "DELETE", HAMBURG, None,
     405, "method_not_allowed", "DELETE is not allowed on /admin/v1/tenants/hamburg"),
    ("put_tenant", "PUT", HAMBURG, {"name": "Hamburg"},
     405, "method_not_allowed", "PUT is not allowed on /admin/v1/tenants/hamburg"),
    ("get_suspend", "GET", HAMBURG + "/suspend", None,
     405, "method_not_allowed", "GET is not allowed on /admin/v1/tenants/hamburg/suspend"),
    ("patch_limits", "PATCH", LIMITS, {**USER_LIMIT, "rpm": 1},
     405, "method_not_allowed", "PATCH is not allowed on /admin/v1/tenants/hamburg/limits"),
    ("delete_models", "DELETE", "/admin/v1/models", None,
     405, "method_not_allowed", "DELETE is not allowed on /admin/v1/models"),
    ("lowercase_method", "get", TENANTS, None,
     405, "method_not_allowed", "get is not allowed on /admin/v1/tenants"),
    # -- query parameters: the usage report (by, from, to), reports, lists
    ("usage_by_week", "GET", USAGE + "?by=week", None,
     400, "invalid_parameter", "parameter 'by' must be day, month, user, group, model or "
     "function, got 'week'"),
    ("usage_by_empty", "GET", USAGE + "?by=", None,
     400, "invalid_parameter", "parameter 'by' must be day, month, user, group, model or "
     "function, got ''"),
    ("usage_by_case", "GET", USAGE + "?by=Day", None,
     400, "invalid_parameter", "parameter 'by' must be day, month, user, group, model or "
     "function, got 'Day'"),
    ("usage_from_no_such_day", "GET", USAGE + "?from=2026-02-29", None,
     400, "invalid_parameter", "parameter 'from' must be a calendar day as YYYY-MM-DD "
     "(2000-01-01 to 2999-12-31), got '2026-02-29'"),
    ("usage_from_short", "GET", USAGE + "?from=2026-1-01", None,
     400, "invalid_parameter", "parameter 'from' must be a calendar day as YYYY-MM-DD "
     "(2000-01-01 to 2999-12-31), got '2026-1-01'"),
    ("usage_from_time", "GET", USAGE + "?from=2026-11-01T00:00:00Z", None,
     400, "invalid_parameter", "parameter 'from' must be a calendar day as YYYY-MM-DD "
     "(2000-01-01 to 2999-12-31), got '2026-11-01T00:00:00Z'"),
    ("usage_to_before_2000", "GET", USAGE + "?to=1999-12-31", None,
     400, "invalid_parameter", "parameter 'to' must be a calendar day as YYYY-MM-DD "
     "(2000-01-01 to 2999-12-31), got '1999-12-31'"),
    ("usage_to_german_date", "GET", USAGE + "?by=user&to=30.11.2026", None,
     400, "invalid_parameter", "parameter 'to' must be a calendar day as YYYY-MM-DD "
     "(2000-01-01 to 2999-12-31), got '30.11.2026'"),
    ("usage_from_after_to", "GET", USAGE + "?from=2026-11-02&to=2026-11-01", None,
     400, "invalid_parameter", "'from' (2026-11-02) is after 'to' (2026-11-01)"),
    (
        "usage_to_before_default_from", "GET", USAGE + "?to={day_before_this_month}", None,
        400, "invalid_parameter", "'from' ({this_month}) is after 'to' ({day_before_this_month})"),
    (
        "usage_from_after_default_to", "GET", USAGE + "?from=2999-12-31", None,
        400, "invalid_parameter", "'from' (2999-12-31) is after 'to' ({today})"),
    ("monthly_missing", "GET", MONTHLY, None,
     400, "invalid_parameter", "parameter 'month' is missing: give the calendar month as "
     "YYYY-MM"),
    ("monthly_no_month_13", "GET", MONTHLY + "?month=2026-13", None,
     400, "invalid_parameter", "parameter 'month' must be a calendar month as YYYY-MM "
     "(2000-01 to 2999-12), got '2026-13'"),
    ("monthly_a_day", "GET", MONTHLY + "?month=2026-11-01", None,
     400, "invalid_parameter", "parameter 'month' must be a calendar month as YYYY-MM "
     "(2000-01 to 2999-12), got '2026-11-01'"),
    ("limits_clear_no_scope", "DELETE", LIMITS, None,
     400, "invalid_parameter", "parameter 'scope' must be tenant, group, user or key"),
    ("limits_clear_bad_scope", "DELETE", LIMITS + "?scope=org", None,
     400, "invalid_parameter", "parameter 'scope' must be tenant, group, user or key"),
    ("limits_clear_subject_of_tenant", "DELETE", LIMITS + "?scope=tenant&subject=alice", None,
     400, "invalid_parameter", "parameter 'subject' must be \"\" for scope 'tenant' (the "
     "tenant as a whole)"),
    ("limits_clear_subject_too_long", "DELETE", LIMITS + "?scope=user&subject=" + "u" * 201,
     None, 400, "invalid_parameter", "parameter 'subject' must be a name of at most 200 "
     "characters without control characters, or empty for the default"),
    ("disallow_without_alias", "DELETE", ALLOWED, None,
     400, "invalid_parameter", "parameter 'alias' names the model to take off the list"),
    ("audit_limit_zero", "GET", "/admin/v1/audit?limit=0", None,
     400, "invalid_parameter", "parameter 'limit' must be a whole number from 1 to 1000, "
     "got '0'"),
    ("audit_limit_too_large", "GET", "/admin/v1/tenants/hamburg/audit?limit=1001", None,
     400, "invalid_parameter", "parameter 'limit' must be a whole number from 1 to 1000, "
     "got '1001'"),
    ("audit_before_word", "GET", "/admin/v1/audit?before=latest", None,
     400, "invalid_parameter", "parameter 'before' must be a seq, a whole number from 1 (the "
     "next_before of the page before), got 'latest'"),
    ("audit_tenant_pattern", "GET", "/admin/v1/audit?tenant=Hamburg", None,
     400, "invalid_parameter", f"parameter 'tenant' must be a tenant slug: {SLUG_HELP}, got "
     "'Hamburg'"),
    ("apply_dry_run_word", "POST", APPLY + "?dry_run=yes", NEW,
     400, "invalid_parameter", "parameter 'dry_run' must be true or false"),
    # -- host names that are not host names, paths that name another endpoint
    (
        "host_empty_label", "PATCH", "/admin/v1/tenants/bremen", {"hosts": ["llmoin..bremen.de"]},
        400, "invalid_body", f"field 'hosts' must be {HOST_HELP}"),
    (
        "host_label_dash", "PATCH", "/admin/v1/tenants/bremen", {"hosts": ["llmoin.-bremen.de"]},
        400, "invalid_body", f"field 'hosts' must be {HOST_HELP}"),
    (
        "host_label_too_long", "PATCH", "/admin/v1/tenants/bremen",
        {"hosts": ["a" * 64 + ".bremen.de"]},
        400, "invalid_body", f"field 'hosts' must be {HOST_HELP}"),
    (
        "path_encoded_slash", "GET", "/admin/v1/tenants/hamburg%2Fkeys", None,
        400, "invalid_parameter", f"path parameter 'slug' must be a tenant slug: {SLUG_HELP}"),
    ("path_slug_of_300_characters", "GET", "/admin/v1/tenants/" + "a" * 300, None,
     400, "invalid_parameter", f"path parameter 'slug' must be a tenant slug: {SLUG_HELP}"),
]


def api_params():
    return [pytest.param(*case[1:], id=case[0]) for case in API_CASES]


# --- llmoinctl ------------------------------------------------------------------------
#
# (id, arguments, exit code, standard error without "llmoinctl: " and its line end,
# whether it reaches tenantd). Exit 2: refused on the command line, nothing sent.
# Exit 1: tenantd refused it. Exit 3: tenantd could not be reached.

CTL_CASES = [
    # -- commands, arguments, options
    ("unknown_command", ["frobnicate"], 2, "unknown command 'frobnicate'; see llmoinctl --help",
     False),
    ("unknown_subcommand", ["tenant", "delete", "hamburg"], 2,
     "unknown command 'tenant delete'; see llmoinctl --help", False),
    ("missing_subcommand", ["limits"], 2,
     "'limits' needs a subcommand (set, show, clear); see llmoinctl limits --help", False),
    ("no_command", ["--output", "json"], 2, "missing command; see llmoinctl --help", False),
    ("unknown_option", ["tenant", "list", "--all"], 2,
     "tenant list: unknown option '--all'; see llmoinctl tenant list --help", False),
    ("unknown_short_option", ["-x", "tenant", "list"], 2,
     "unknown option '-x'; see llmoinctl --help", False),
    ("option_before_command", ["--user", "alice", "key", "create", "hamburg"], 2,
     "option '--user' must come after the command words; see llmoinctl --help", False),
    ("missing_argument", ["tenant", "show"], 2,
     "tenant show: missing argument SLUG; usage: llmoinctl tenant show SLUG", False),
    ("missing_second_argument", ["model", "allow", "hamburg"], 2,
     "model allow: missing argument ALIAS; usage: llmoinctl model allow TENANT ALIAS "
     "[--pool POOL]", False),
    ("extra_argument", ["tenant", "show", "hamburg", "bremen"], 2,
     "tenant show: unexpected argument 'bremen'; usage: llmoinctl tenant show SLUG", False),
    ("missing_required_option", ["tenant", "create", "bremerhaven"], 2,
     "tenant create: missing option --name; usage: llmoinctl tenant create SLUG --name NAME",
     False),
    ("option_without_value", ["tenant", "create", "bremerhaven", "--name"], 2,
     "tenant create: option --name needs a value", False),
    ("option_value_forgotten", ["tenant", "create", "bremerhaven", "--name", "--output", "json"],
     2, "tenant create: option --name needs a value", False),
    ("option_twice", ["key", "create", "hamburg", "--user", "alice", "--user", "bob"], 2,
     "key create: option --user given more than once", False),
    ("option_empty", ["key", "create", "hamburg", "--user", ""], 2,
     "key create: invalid --user: must not be empty", False),
    ("flag_with_value", ["tenant", "dev-idp", "hamburg", "--enable=yes"], 2,
     "tenant dev-idp: option --enable takes no value", False),
    ("text_not_utf8", ["tenant", "create", "bremerhaven", "--name", "Bremerhaven \udcff"], 2,
     "tenant create: invalid --name: the text is not valid UTF-8", False),
    # -- slugs, key ids, issuer ids
    ("bad_slug", ["tenant", "show", "Hamburg"], 2, f"tenant show: invalid SLUG 'Hamburg': "
     f"{SLUG_RULE}", False),
    ("slug_too_long", ["key", "list", "h" * 33], 2, f"key list: invalid TENANT '{'h' * 33}': "
     f"{SLUG_RULE}", False),
    ("bad_confirm_slug", ["tenant", "offboard", "hamburg", "--confirm", "HAMBURG"], 2,
     f"tenant offboard: invalid --confirm 'HAMBURG': {SLUG_RULE}", False),
    ("secret_key_as_key_id", ["key", "revoke", SECRET_KEY], 2,
     "key revoke: KEYID looks like a secret API key (lmk_...), not a key id; use the id "
     "(key_...) shown by 'llmoinctl key list'", False),
    ("key_id_with_path", ["limits", "set", "hamburg", "--key", "key_1/../../x", "--rpm", "1"], 2,
     f"limits set: invalid --key 'key_1/../../x': {KEY_ID_RULE}", False),
    ("issuer_id_zero", ["issuer", "remove", "0"], 2,
     "issuer remove: invalid ISSUER_ID '0': expected an issuer's number as shown by "
     "'llmoinctl issuer list', e.g. 3", False),
    ("issuer_id_url", ["issuer", "remove", HAMBURG_ISSUER], 2,
     f"issuer remove: invalid ISSUER_ID '{HAMBURG_ISSUER}': expected an issuer's number as "
     "shown by 'llmoinctl issuer list', e.g. 3", False),
    # -- dates, months, choices
    ("no_such_day", ["usage", "hamburg", "--from", "2026-02-29"], 2,
     "usage: invalid --from '2026-02-29': day 29 does not exist in 2026-02 (it has 28 days)",
     False),
    ("date_shape", ["usage", "hamburg", "--to", "30.11.2026"], 2,
     "usage: invalid --to '30.11.2026': expected a date as YYYY-MM-DD", False),
    ("date_no_month_13", ["usage", "hamburg", "--from", "2026-13-01"], 2,
     "usage: invalid --from '2026-13-01': there is no month 13", False),
    ("date_before_2000", ["usage", "hamburg", "--from", "1999-12-31"], 2,
     "usage: invalid --from '1999-12-31': the year must be from 2000 to 2999", False),
    ("from_after_to", ["usage", "hamburg", "--from", "2026-11-02", "--to", "2026-11-01"], 2,
     "usage: --from 2026-11-02 is after --to 2026-11-01", False),
    ("verify_from_after_to", ["usage", "verify", "hamburg", "--from", "2026-11-02", "--to",
                              "2026-11-01", "--against", "http://127.0.0.1:9"], 2,
     "usage verify: --from 2026-11-02 is after --to 2026-11-01", False),
    ("month_no_13", ["report", "monthly", "--month", "2026-13"], 2,
     "report monthly: invalid --month '2026-13': there is no month 13", False),
    ("month_shape", ["report", "monthly", "--month", "2026-1"], 2,
     "report monthly: invalid --month '2026-1': expected a month as YYYY-MM", False),
    ("month_a_day", ["report", "monthly", "--month", "2026-11-01"], 2,
     "report monthly: invalid --month '2026-11-01': expected a month as YYYY-MM", False),
    ("month_before_2000", ["report", "monthly", "--month", "1999-12"], 2,
     "report monthly: invalid --month '1999-12': the year must be from 2000 to 2999", False),
    ("month_missing", ["report", "monthly"], 2,
     "report monthly: missing option --month; usage: llmoinctl report monthly --month YYYY-MM",
     False),
    ("bad_output", ["--output", "yaml", "tenant", "list"], 2,
     "tenant list: invalid --output 'yaml'; expected table, json or csv", False),
    ("bad_output_after_command", ["tenant", "list", "--output=XML"], 2,
     "tenant list: invalid --output 'XML'; expected table, json or csv", False),
    ("bad_by", ["usage", "hamburg", "--by", "week"], 2,
     "usage: invalid --by 'week'; expected day, month, user, group, model or function", False),
    ("bad_models_choice", ["tenant", "update", "hamburg", "--models", "some"], 2,
     "tenant update: invalid --models 'some'; expected all or allow-list", False),
    ("bad_shell", ["completion", "zsh"], 2, "completion: invalid SHELL 'zsh'; expected bash",
     False),
    # -- numbers, limits, durations, expiries
    ("cap_zero", ["tenant", "update", "hamburg", "--max-tokens-cap", "0"], 2,
     "tenant update: invalid --max-tokens-cap '0': expected a whole number from 1 to 1000000",
     False),
    ("cap_too_large", ["tenant", "update", "hamburg", "--max-tokens-cap", "1000001"], 2,
     "tenant update: invalid --max-tokens-cap '1000001': expected a whole number from 1 to "
     "1000000", False),
    ("cap_not_a_number", ["tenant", "update", "hamburg", "--max-tokens-cap", "4k"], 2,
     "tenant update: invalid --max-tokens-cap '4k': expected a whole number from 1 to 1000000",
     False),
    ("rpm_negative", ["limits", "set", "hamburg", "--rpm", "-5"], 2,
     f"limits set: invalid --rpm '-5': expected a whole number from 0 to 2147483647, "
     f"{LIMIT_RULE}", False),
    ("rpm_beyond_int", ["limits", "set", "hamburg", "--user", "alice", "--rpm", "2147483648"], 2,
     f"limits set: invalid --rpm '2147483648': expected a whole number from 0 to 2147483647, "
     f"{LIMIT_RULE}", False),
    ("tpm_beyond_bigint", ["limits", "set", "hamburg", "--tpm", "9223372036854775808"], 2,
     f"limits set: invalid --tpm '9223372036854775808': expected a whole number from 0 to "
     f"9223372036854775807, {LIMIT_RULE}", False),
    ("limit_word", ["limits", "set", "hamburg", "--concurrent", "unlimited"], 2,
     f"limits set: invalid --concurrent 'unlimited': expected a whole number from 0 to "
     f"2147483647, {LIMIT_RULE}", False),
    ("limit_fraction", ["limits", "set", "hamburg", "--monthly-tokens", "1.5e6"], 2,
     f"limits set: invalid --monthly-tokens '1.5e6': expected a whole number from 0 to "
     f"9223372036854775807, {LIMIT_RULE}", False),
    ("leeway_too_long", ["issuer", "add", "hamburg", "--issuer", AN_ISSUER["issuer"],
                         "--audience", "llmoin", "--jwks-uri", AN_ISSUER["jwks_uri"],
                         "--leeway", "11m"], 2,
     "issuer add: invalid --leeway '11m': must be at most 600 seconds", False),
    ("ttl_too_short", ["dev-token", "hamburg", "--user", "alice", "--ttl", "59"], 2,
     "dev-token: invalid --ttl '59': must be at least 60 seconds", False),
    ("ttl_in_days", ["dev-token", "hamburg", "--user", "alice", "--ttl", "1d"], 2,
     "dev-token: invalid --ttl '1d': expected seconds (3600 or 3600s), minutes (30m) or hours "
     "(1h)", False),
    ("expiry_zero", ["key", "create", "hamburg", "--user", "alice", "--expires", "0d"], 2,
     "key create: invalid --expires '0d': the duration must be positive", False),
    ("expiry_too_far", ["key", "create", "hamburg", "--user", "alice", "--expires", "3651d"], 2,
     "key create: invalid --expires '3651d': at most 3650 days (10 years) ahead", False),
    ("expiry_without_unit", ["key", "create", "hamburg", "--user", "alice", "--expires", "90"],
     2, "key create: invalid --expires '90': a duration needs a unit: 90d (days), 90h (hours) "
     "or 90m (minutes)", False),
    ("expiry_hour_25", ["key", "create", "hamburg", "--user", "alice", "--expires",
                        "2027-02-27T25:00:00Z"], 2,
     "key create: invalid --expires '2027-02-27T25:00:00Z': there is no hour 25", False),
    ("audit_limit_zero", ["audit", "--limit", "0"], 2,
     "audit: invalid --limit '0': expected a whole number from 1 to 1000", False),
    # -- lists, host names, URLs
    ("host_uppercase", ["tenant", "update", "hamburg", "--hosts", "LLMoin.hamburg.de"], 2,
     f"tenant update: invalid --hosts entry 'LLMoin.hamburg.de': {HOST_RULE}", False),
    ("host_empty_label", ["tenant", "update", "hamburg", "--hosts", "llmoin..hamburg.de"], 2,
     "tenant update: invalid --hosts entry 'llmoin..hamburg.de': a part between dots is empty",
     False),
    ("host_label_dash", ["tenant", "update", "hamburg", "--hosts", "llmoin-.hamburg.de"], 2,
     "tenant update: invalid --hosts entry 'llmoin-.hamburg.de': a part between dots starts "
     "or ends with '-'", False),
    ("host_twice", ["tenant", "update", "hamburg", "--hosts", "a.de,b.de,a.de"], 2,
     "tenant update: invalid --hosts 'a.de,b.de,a.de': 'a.de' is given twice", False),
    ("list_empty_entry", ["key", "create", "hamburg", "--user", "alice", "--models", "a,,b"], 2,
     "key create: invalid --models 'a,,b': entry 2 is empty (separate entries with ',' only)",
     False),
    ("list_blank", ["dev-token", "hamburg", "--user", "alice", "--groups", "it, hr"], 2,
     "dev-token: invalid --groups 'it, hr': entry ' hr' starts or ends with a blank (separate "
     "entries with ',' only)", False),
    ("url_plain_http", ["issuer", "add", "hamburg", "--issuer", "http://login.example.de",
                        "--audience", "llmoin", "--jwks-uri", AN_ISSUER["jwks_uri"]], 2,
     f"issuer add: invalid --issuer 'http://login.example.de': {URL_RULE}", False),
    ("url_with_blank", ["usage", "verify", "hamburg", "--from", "2026-11-01", "--to",
                        "2026-11-02", "--against", "https://sim .example"], 2,
     f"usage verify: invalid --against 'https://sim .example': {URL_RULE}", False),
    # -- options that exclude each other, or of which one is needed
    ("hosts_and_no_hosts", ["tenant", "update", "hamburg", "--hosts", "a.de", "--no-hosts"], 2,
     "tenant update: options --hosts and --no-hosts exclude each other; give one", False),
    ("enable_and_disable", ["tenant", "dev-idp", "hamburg", "--enable", "--disable"], 2,
     "tenant dev-idp: options --enable and --disable exclude each other; give one", False),
    ("neither_enable_nor_disable", ["tenant", "dev-idp", "hamburg"], 2,
     "tenant dev-idp: missing option --enable or --disable; usage: llmoinctl tenant dev-idp "
     "SLUG (--enable | --disable)", False),
    ("two_subjects", ["limits", "clear", "hamburg", "--user", "alice", "--default-user"], 2,
     "limits clear: options --user and --default-user exclude each other; give one", False),
    ("no_limit_kind", ["limits", "set", "hamburg", "--user", "alice"], 2,
     "limits set: missing option: give at least one of --rpm, --tpm, --concurrent or "
     "--monthly-tokens; usage: llmoinctl limits set TENANT [--user USER | --group GROUP | "
     "--key KEYID | --default-user | --default-group | --default-key] [--rpm N] [--tpm N] "
     "[--concurrent N] [--monthly-tokens N]", False),
    ("jwks_uri_and_file", ["issuer", "add", "hamburg", "--issuer", AN_ISSUER["issuer"],
                           "--audience", "llmoin", "--jwks-uri", AN_ISSUER["jwks_uri"],
                           "--jwks-file", "{files}/jwks.json"], 2,
     "issuer add: options --jwks-uri and --jwks-file exclude each other; give one", False),
    # -- files
    ("apply_file_missing", ["tenant", "apply", "-f", "{files}/missing.json"], 2,
     "tenant apply: cannot read --file '{files}/missing.json': No such file or directory",
     False),
    ("apply_file_not_json", ["tenant", "apply", "--file", "{files}/bremen.yaml"], 2,
     "tenant apply: invalid --file '{files}/bremen.yaml': not JSON: invalid token near 'slug' "
     "(line 1, column 4)", False),
    ("apply_file_array", ["tenant", "apply", "-f", "{files}/array.json"], 2,
     "tenant apply: invalid --file '{files}/array.json': expected a JSON object ({...}), the "
     "file holds an array", False),
    ("apply_file_empty", ["tenant", "apply", "-f", "{files}/empty.json", "--dry-run"], 2,
     "tenant apply: invalid --file '{files}/empty.json': the file is empty; expected a JSON "
     "object", False),
    ("apply_file_too_large", ["tenant", "apply", "-f", "{files}/large.json"], 2,
     "tenant apply: --file '{files}/large.json' is larger than 1 MiB", False),
    ("apply_file_directory", ["tenant", "apply", "-f", "{files}"], 2,
     "tenant apply: cannot read --file '{files}': Is a directory", False),
    ("jwks_file_missing", ["issuer", "add", "hamburg", "--issuer", AN_ISSUER["issuer"],
                           "--audience", "llmoin", "--jwks-file", "{files}/missing.json"], 2,
     "issuer add: cannot read --jwks-file '{files}/missing.json': No such file or directory",
     False),
    ("jwks_file_not_json", ["issuer", "add", "hamburg", "--issuer", AN_ISSUER["issuer"],
                            "--audience", "llmoin", "--jwks-file", "{files}/bremen.yaml"], 2,
     "issuer add: invalid --jwks-file '{files}/bremen.yaml': not JSON: invalid token near 'slug' "
     "(line 1, column 4)", False),
    # -- refused by tenantd (exit 1): the request is sent, nothing changes
    ("unknown_tenant", ["tenant", "show", "atlantis"], 1,
     "tenant 'atlantis' not found (HTTP 404, tenant_not_found)", True),
    ("tenant_exists", ["tenant", "create", "hamburg", "--name", "Hamburg"], 1,
     "tenant 'hamburg' already exists (HTTP 409, tenant_exists)", True),
    ("user_with_space", ["key", "create", "hamburg", "--user", "alice smith"], 1,
     "field 'user' must be a non-empty user id without spaces or control characters "
     "(HTTP 400, invalid_body)", True),
    ("unknown_key", ["key", "revoke", "key_0000000000000000"], 1,
     "API key 'key_0000000000000000' not found (HTTP 404, key_not_found)", True),
    ("key_id_not_tenantd_shape", ["key", "revoke", "key_42"], 1,
     "path parameter 'key_id' must be a key id: key_ and 16 lowercase hex digits (HTTP 400, "
     "invalid_parameter)", True),
    ("group_with_comma", ["limits", "set", "hamburg", "--group", "a,b", "--rpm", "1"], 1,
     "field 'subject' must be a group name without commas (HTTP 400, invalid_body)", True),
    ("unknown_model", ["model", "allow", "hamburg", "llama-9-1t"], 1,
     "model 'llama-9-1t' does not exist (HTTP 400, model_not_found)", True),
    ("apply_bad_document", ["tenant", "apply", "-f", "{files}/bad-slug.json"], 1,
     f"field 'slug' must be {SLUG_HELP} (HTTP 400, invalid_body)", True),
    ("jwks_without_usable_key", ["issuer", "add", "hamburg", "--issuer", AN_ISSUER["issuer"],
                                 "--audience", "llmoin", "--jwks-file", "{files}/jwks.json"], 1,
     "field 'jwks' holds no usable signing key (RSA of at least 2048 bits for RS256/PS256, "
     "or EC P-256 for ES256) (HTTP 400, invalid_body)", True),
    ("offboard_confirm_other", ["tenant", "offboard", "hamburg", "--confirm", "bremen"], 1,
     "field 'confirm' must repeat the tenant's slug, 'hamburg', to offboard it: every row, key "
     "and counter of the tenant is deleted (HTTP 400, confirmation_required)", True),
]


# --- helpers --------------------------------------------------------------------------

# The tables the management API writes. Ingestion's (usage_*, ingest_*) are
# left out: no request reaches the gateway here, but they are not the API's.
WRITTEN_TABLES = ("tenants", "api_keys", "tenant_issuers", "tenant_models", "limits", "models",
                  "pools", "dev_idp_keys", "audit_log", "audit_head")


class StoredState:
    """The rows of the tables the management API writes, over one
    connection kept for the module (a new one per look is slow)."""

    def __init__(self, stack):
        self.connection = psycopg2.connect(stack.env["LLMOIN_PG_DSN"])
        self.connection.autocommit = True
        present = [name for (name,) in self.rows(
            "SELECT table_name::text FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_name = ANY(%s)", list(WRITTEN_TABLES))]
        self.query = " UNION ALL ".join(
            f"SELECT '{name}', count(*), md5(coalesce(string_agg(t::text, '|'"
            f" ORDER BY t::text), '')) FROM {name} t" for name in sorted(present))

    def rows(self, query, *params):
        with self.connection.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall()

    def __call__(self):
        """{table: (rows, md5 of all rows)}: any insert, update or delete shows."""
        return {name: (count, digest) for name, count, digest in self.rows(self.query)}

    def close(self):
        self.connection.close()


def requests_seen(stack):
    """How many requests tenantd has answered (its log has a line for each)."""
    log = (stack.state / "tenantd" / "tenantd.log").read_bytes()
    return log.count(b"event=admin_request ")


def max_body_bytes(stack):
    """tenantd's max_body_bytes: the node's setting, else tenantd's default."""
    for line in (stack.state / "tenantd" / "tenantd.conf").read_text().splitlines():
        name, _, value = line.partition("=")
        if name.strip() == "max_body_bytes":
            return int(value)
    help_text = subprocess.run([str(BUILD / "tenantd" / "tenantd"), "--help"],
                               capture_output=True, text=True).stdout
    line = next(line for line in help_text.splitlines()
                if line.split()[:1] == ["max_body_bytes"])
    return int(line.rsplit("(default: ", 1)[1].rstrip(")"))


def encode(body, limit):
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    if body is TOO_LARGE:
        head = b'{"slug": "bremerhaven", "name": "'
        return head + b"x" * (limit + 1 - len(head) - 2) + b'"}'
    return json.dumps(body, ensure_ascii=False).encode()


def fill(text, world):
    for name, value in world.items():
        text = text.replace("{" + name + "}", str(value))
    return text


def fill_body(body, world):
    """Placeholders in the string values of a JSON body."""
    if isinstance(body, dict):
        return {name: fill_body(value, world) for name, value in body.items()}
    if isinstance(body, list):
        return [fill_body(value, world) for value in body]
    return fill(body, world) if isinstance(body, str) else body


def ctl(stack, args, socket=None):
    """llmoinctl with exactly these arguments (and the node's socket, or
    another), as bytes so that arguments need not be UTF-8."""
    command = [str(BUILD / "tenantd" / "ctl" / "llmoinctl"), "--socket",
               socket or stack.env["LLMOIN_SOCKET"], *args]
    env = {name: value for name, value in os.environ.items() if name != "LLMOIN_SOCKET"}
    return subprocess.run([os.fsencode(part) for part in command], capture_output=True,
                          timeout=30, env=env)


# --- the node's tenants, keys, issuers and files ---------------------------------------


def checked(stack, method, path, body, status):
    """The answer document of a request that must succeed with status."""
    answer = on_socket_with_headers(stack, method, path, encode(body, 0))
    assert answer[0] == status, answer[1]
    return answer[1]


@pytest.fixture(scope="module")
def world(stack):
    """hamburg with a host name, an API key, an issuer with keys of its own,
    limits and an allowed model; bremen with nothing. Returns the values the
    tables' placeholders stand for."""
    checked(stack, "POST", TENANTS, {"slug": "hamburg", "name": "Freie und Hansestadt Hamburg"},
            201)
    checked(stack, "POST", TENANTS, {"slug": "bremen", "name": "Freie Hansestadt Bremen"}, 201)
    checked(stack, "PATCH", HAMBURG, {"hosts": ["llmoin.hamburg.de"]}, 200)
    key = checked(stack, "POST", KEYS, {"user": "alice", "name": "Fachverfahren X"}, 201)
    jwks = {"keys": [public_jwk(new_key("ES256"), "hamburg-1", "ES256")]}
    checked(stack, "POST", ISSUERS, {"issuer": HAMBURG_ISSUER, "audience": "llmoin",
                                              "jwks": jwks}, 201)
    checked(stack, "PUT", LIMITS, {"scope": "tenant", "subject": "", "rpm": 600}, 200)
    checked(stack, "PUT", LIMITS, {"scope": "user", "subject": "alice", "rpm": 60}, 200)
    checked(stack, "POST", ALLOWED, {"alias": SIM_MODEL}, 200)

    files = pathlib.Path(tempfile.mkdtemp(prefix="llmoin-bad-input-"))
    (files / "bremen.yaml").write_text("slug: bremen\nname: Freie Hansestadt Bremen\n")
    (files / "array.json").write_text('[{"slug": "bremen"}]\n')
    (files / "empty.json").write_text("\n")
    (files / "large.json").write_text('{"name": "' + "x" * (1 << 20) + '"}')
    (files / "bad-slug.json").write_text('{"slug": "Bremen", "name": "Bremen"}')
    (files / "jwks.json").write_text('{"keys": []}')

    berlin = datetime.datetime.now(zoneinfo.ZoneInfo("Europe/Berlin")).date()
    month_start = berlin.replace(day=1)
    yield {"key_id": key["id"], "files": files,
           "max_body_bytes": max_body_bytes(stack), "today": berlin.isoformat(),
           "this_month": month_start.isoformat(),
           "day_before_this_month": (month_start - datetime.timedelta(days=1)).isoformat()}
    shutil.rmtree(files, ignore_errors=True)


@pytest.fixture(scope="module")
def stored_state(stack):
    state = StoredState(stack)
    yield state
    state.close()


# --- the tests ------------------------------------------------------------------------


@pytest.mark.parametrize("method, path, body, status, code, message", api_params())
def test_api_refuses_bad_input_exactly_and_changes_nothing(stack, world, stored_state, method,
                                                           path, body, status, code, message):
    path = fill(path, world)
    body = encode(fill_body(body, world), world["max_body_bytes"])
    before, seen = stored_state(), requests_seen(stack)

    answered, answer, headers = on_socket_with_headers(stack, method, path, body)

    assert (answered, answer) == (status, {"error": {
        "message": fill(message, world), "type": "invalid_request_error", "code": code}})
    assert headers["Content-Type"] == "application/json"
    assert stored_state() == before
    assert requests_seen(stack) == seen + 1


@pytest.mark.parametrize("args, exit_code, stderr, reaches_tenantd",
                         [pytest.param(*case[1:], id=case[0]) for case in CTL_CASES])
def test_llmoinctl_refuses_bad_input_exactly_and_changes_nothing(stack, world, stored_state, args,
                                                                 exit_code, stderr,
                                                                 reaches_tenantd):
    args = [fill(arg, world) for arg in args]
    before, seen = stored_state(), requests_seen(stack)

    result = ctl(stack, args)

    assert (result.returncode, result.stderr.decode()) == \
        (exit_code, "llmoinctl: " + fill(stderr, world) + "\n")
    assert result.stdout == b""
    assert stored_state() == before
    assert requests_seen(stack) == seen + (1 if reaches_tenantd else 0)


def test_llmoinctl_never_echoes_a_secret_key(stack, world):
    for args in (["key", "revoke", SECRET_KEY],
                 ["limits", "set", "hamburg", "--key", SECRET_KEY, "--rpm", "1"],
                 ["limits", "clear", "hamburg", f"--key={SECRET_KEY}"]):
        result = ctl(stack, args)
        assert result.returncode == 2
        assert SECRET_KEY.encode() not in result.stderr
        assert b"looks like a secret API key (lmk_...), not a key id" in result.stderr


def test_llmoinctl_without_tenantd_exits_3_and_sends_nothing(stack, world):
    missing = world["files"] / "tenantd.sock"
    seen = requests_seen(stack)

    result = ctl(stack, ["tenant", "update", "hamburg", "--name", "Hamburg"], socket=str(missing))

    assert (result.returncode, result.stderr.decode()) == (3, (
        f"llmoinctl: cannot reach tenantd: socket {missing} does not exist; check that tenantd "
        "is running and that --socket or LLMOIN_SOCKET names its socket\n"))
    assert requests_seen(stack) == seen


def test_wrong_method_names_the_allowed_ones(stack, world):
    status, _, headers = on_socket_with_headers(stack, "DELETE", HAMBURG, None)

    assert status == 405
    allowed = {method.strip() for method in (headers["Allow"] or "").split(",")}
    assert allowed == {"GET", "PATCH"}
