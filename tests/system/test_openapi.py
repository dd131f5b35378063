"""docs/openapi.yaml against the code and a running tenantd.

What is checked:
  - the document's paths and methods are exactly `tenantd --routes`, and its
    summaries are those of the route table in tenantd/api.c; the routes the
    table serves without credentials (health, DEV_IDP_ROUTE) are exactly
    those documented with `security: []`, and only they lack 401/403;
  - the path parameters' patterns and lengths are those of api.c's
    path_parameters table;
  - the request body schemas say what the handlers' field tables
    (every field_spec_t table in tenantd/*.c, read with a small C reader
    that knows the 8 members of field_spec_t in validate.h) say: members,
    types, required, nullable, maxLength, pattern, and for lists of strings
    maxItems and each item's maxLength and pattern; every JSON request body
    has a field table and every field table a request body;
  - the development identity provider's query and form parameters are the
    ones tenantd/dev_idp.c reads (and those it insists on are required),
    with patterns dev_idp.c uses; the optional ones it refuses when present
    but unreadable (is_too_long: state, nonce) have the maxLength of the
    buffer they are read into;
  - every error code tenantd/*.c can answer with is in the Error schema and
    nothing else is, and the OAuth error codes of the token endpoint are
    those of dev_idp.c;
  - every example in the document fits its schema;
  - against a real node (the `stack` fixture): every route is called (the
    /dev-idp ones over TCP without credentials, as a browser and an OAuth
    client would, through a full authorization code flow with PKCE) and its
    answer must fit what the document says for the status it answered with:
    the media type, and the schema. Response objects are closed
    (additionalProperties: false) and list every field as required, so a
    field added to an api_*_docs view, or dropped from it, fails here;
  - the error answers the document promises are real (ERRORS), and every
    error code of the sources is provoked by this module or listed in
    NOT_PROVOKED with the reason it cannot be; 401 over TCP, 409 conflict
    by a change racing tenantd's past its own check, the HTML 503 of
    signing in with every code slot taken, 503 with the database down.

Not every endpoint answers JSON: the development identity provider's
sign-in form and its error pages are HTML, signing in answers a 302 without
a body, and two of its endpoints take HTML form posts. NOT_JSON_ANSWERS and
FORM_BODIES below name those routes and statuses one by one; every check
that is about JSON says there what it does for them instead.

Reading the YAML: the system Python has no YAML package we may rely on
(python3-yaml is not in ops/lib/packages.sh), so read_yaml() below reads the
plain subset of YAML that docs/openapi.yaml keeps to (its head comment lists
the rules): block mappings and sequences by indentation, one-line plain or
quoted scalars typed as in YAML 1.2's core schema (null, true/false,
integers, floats, else strings), one-line flow sequences of scalars, {} and
[], and >- / | block scalars. Anything outside the subset raises
YamlSubsetError with the line number rather than being misread. When PyYAML
happens to be installed, test_reader_agrees_with_pyyaml checks that both
read the document identically (and so that the document is plain YAML).
"""

import base64
import concurrent.futures
import datetime
import hashlib
import json
import os
import re
import subprocess
import urllib.parse

import psycopg2
import pytest
import requests

from llmoin_stack import UnixHTTPConnection, BUILD, SIM_MODEL, SOURCE, wait_until

DOCUMENT = SOURCE / "docs" / "openapi.yaml"
TENANTD = SOURCE / "tenantd"
JSON = "application/json"


# --- a reader for the YAML subset of docs/openapi.yaml -----------------------

class YamlSubsetError(ValueError):
    pass


_NULL = re.compile(r"(?:null|Null|NULL|~)\Z")
_BOOL = {"true": True, "True": True, "TRUE": True,
         "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)(?:[eE][-+]?[0-9]+)?\Z")
_PLAIN_KEY_END = re.compile(r":(?: |\Z)")
_INDICATORS = tuple("[]{},&*!|>%@`#?") + ("- ",)


def read_yaml(text, name="docs/openapi.yaml"):
    """Reads the YAML subset described in the module docstring."""
    return _Reader(text, name).document()


class _Reader:
    def __init__(self, text, name):
        self.lines = text.split("\n")
        self.name = name
        self.pos = 0

    def fail(self, message):
        raise YamlSubsetError(f"{self.name} line {self.pos + 1}: {message}")

    def peek(self):
        """(indent, content) of the next line that is neither blank nor a
        comment, or None at the end."""
        while self.pos < len(self.lines):
            line = self.lines[self.pos].rstrip(" ")
            content = line.lstrip(" ")
            if content.startswith("\t") or "\t" in line[:len(line) - len(content)]:
                self.fail("tab in indentation")
            if content and not content.startswith("#"):
                return len(line) - len(content), content
            self.pos += 1
        return None

    def document(self):
        first = self.peek()
        if first is None or first[0] != 0:
            self.fail("the document must be a mapping starting in column 1")
        value = self.mapping(0)
        if self.peek() is not None:
            self.fail("content after the document")
        return value

    def node(self, minimum):
        """The block node on the following lines if it is indented at least
        `minimum`, else None (an empty value)."""
        line = self.peek()
        if line is None or line[0] < minimum:
            return None
        indent, content = line
        if content == "-" or content.startswith("- "):
            return self.sequence(indent)
        return self.mapping(indent)

    def mapping(self, indent):
        result = {}
        while (line := self.peek()) is not None and line[0] >= indent:
            if line[0] > indent:
                self.fail("unexpected indentation")
            content = line[1]
            if content == "-" or content.startswith("- "):
                self.fail("a sequence item where a mapping key belongs "
                          "(indent sequences below their key)")
            split = self.split_key(content)
            if split is None:
                self.fail(f"expected 'key: value', got {content!r}")
            key, rest = split
            if key in result:
                self.fail(f"duplicate key {key!r}")
            self.pos += 1
            if rest == "":
                result[key] = self.node(indent + 1)
            elif rest[0] in "|>":
                result[key] = self.block_scalar(rest, indent)
            else:
                result[key] = self.scalar(rest)
        return result

    def sequence(self, indent):
        items = []
        while (line := self.peek()) is not None and line[0] >= indent:
            if line[0] > indent:
                self.fail("unexpected indentation")
            content = line[1]
            if not (content == "-" or content.startswith("- ")):
                self.fail("a mapping key where a sequence item belongs")
            rest = content[1:].lstrip(" ")
            if rest == "":
                self.pos += 1
                items.append(self.node(indent + 1))
            elif self.split_key(rest) is not None:
                # "- key: value ...": a mapping whose keys stand where `key` does.
                inner = indent + len(content) - len(rest)
                self.lines[self.pos] = " " * inner + rest
                items.append(self.mapping(inner))
            else:
                self.pos += 1
                items.append(self.scalar(rest))
        return items

    def split_key(self, content):
        """(key, rest of the line) for 'key: rest', or None."""
        if content[0] in "'\"":
            end = self.quoted_end(content)
            if end is None or not _PLAIN_KEY_END.match(content, end):
                return None
            return self.scalar(content[:end]), content[end + 1:].strip(" ")
        match = _PLAIN_KEY_END.search(content)
        if match is None:
            return None
        key = content[:match.start()]
        if not key or key.startswith(_INDICATORS) or " #" in key:
            self.fail(f"key {key!r} needs quotes")
        return key, content[match.end():].strip(" ")

    def quoted_end(self, text):
        """Index just past the quoted scalar text starts with, or None."""
        quote, i = text[0], 1
        while i < len(text):
            if quote == "'" and text[i] == "'":
                if text[i + 1:i + 2] == "'":
                    i += 2
                    continue
                return i + 1
            if quote == '"' and text[i] == "\\":
                i += 2
                continue
            if quote == '"' and text[i] == '"':
                return i + 1
            i += 1
        return None

    def scalar(self, text):
        if text[0] in "'\"":
            if self.quoted_end(text) != len(text):
                self.fail(f"a quoted scalar must close at the end of its line: {text!r}")
            if text[0] == "'":
                return text[1:-1].replace("''", "'")
            inner = text[1:-1]
            if re.search(r'\\[^"\\/nt]', inner):
                self.fail("only \\\" \\\\ \\/ \\n \\t escapes in double quotes")
            return json.loads(text)
        if text in ("[]", "{}"):
            return [] if text == "[]" else {}
        if text[0] == "[":
            if not text.endswith("]"):
                self.fail("a flow sequence must close on its line")
            return [self.scalar(item.strip(" ")) for item in self.flow_items(text[1:-1])]
        if text.startswith(_INDICATORS) or text.startswith("-\t"):
            self.fail(f"{text!r} is outside the subset (quote it)")
        if ": " in text or text.endswith(":") or " #" in text:
            self.fail(f"plain scalar {text!r} contains ': ' or ' #' (quote it)")
        if text == "" or _NULL.match(text):
            return None
        if text in _BOOL:
            return _BOOL[text]
        if _INT.match(text):
            return int(text)
        if _FLOAT.match(text):
            return float(text)
        return text

    def flow_items(self, inner):
        items, start, i = [], 0, 0
        while i < len(inner):
            if inner[i] in "'\"":
                end = self.quoted_end(inner[i:])
                if end is None:
                    self.fail("unclosed quote in a flow sequence")
                i += end
                continue
            if inner[i] in "[]{}":
                self.fail("nested flow collections are outside the subset")
            if inner[i] == ",":
                items.append(inner[start:i])
                start = i + 1
            i += 1
        items.append(inner[start:])
        if any(item.strip(" ") == "" for item in items):
            self.fail("empty item in a flow sequence")
        return items

    def block_scalar(self, header, indent):
        if header not in ("|", "|-", ">", ">-"):
            self.fail(f"block scalar header {header!r}: use |, |-, > or >-")
        body = []
        while self.pos < len(self.lines):
            line = self.lines[self.pos].rstrip(" ")
            if line and len(line) - len(line.lstrip(" ")) <= indent:
                break
            body.append(line)
            self.pos += 1
        while body and body[-1] == "":
            body.pop()
        if not body or body[0] == "":
            self.fail("a block scalar starts with a line of text")
        base = len(body[0]) - len(body[0].lstrip(" "))
        lines = []
        for line in body:
            if line and len(line) - len(line.lstrip(" ")) < base:
                self.fail("a block scalar's lines are indented alike")
            lines.append(line[base:])
        if header[0] == "|":
            text = "\n".join(lines)
        else:
            if any(line.startswith(" ") for line in lines):
                self.fail("no more-indented lines in a folded scalar")
            text, blanks = lines[0], 0
            for line in lines[1:]:
                if line == "":
                    blanks += 1
                    continue
                text += "\n" * blanks if blanks else " "
                text += line
                blanks = 0
        return text if header.endswith("-") else text + "\n"


def test_reader_reads_the_subset():
    text = "\n".join([
        "# comment",
        "a:",
        "  b: 'x: ''y'''",
        "  c: [day, 'user', 3]",
        "  d:",
        "    - e: 1",
        "      f: true",
        "    - plain text",
        "  g: >-",
        "    one",
        "    two",
        "",
        "    three",
        "  h: {}",
        "  i:",
        "j: \"q\"",
        "",
    ])
    assert read_yaml(text) == {
        "a": {"b": "x: 'y'", "c": ["day", "user", 3],
              "d": [{"e": 1, "f": True}, "plain text"],
              "g": "one two\nthree", "h": {}, "i": None},
        "j": "q"}
    for bad in ("a: &anchor 1", "a: b: c", "a:\n- b", "a: 'open", "a: 1 # note",
                "a:\n  b: 1\n   c: 2", "a: {b: 1}", "a:\n\tb: 1", "a: 1\na: 2"):
        with pytest.raises(YamlSubsetError):
            read_yaml(bad)


def _strictly_equal(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_strictly_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_strictly_equal, a, b))
    return a == b


def _first_difference(a, b, where="$"):
    if type(a) is not type(b):
        return f"{where}: {a!r} ({type(a).__name__}) vs {b!r} ({type(b).__name__})"
    if isinstance(a, dict):
        if a.keys() != b.keys():
            return f"{where}: keys {sorted(map(str, a))} vs {sorted(map(str, b))}"
        for key in a:
            found = _first_difference(a[key], b[key], f"{where}.{key}")
            if found:
                return found
    elif isinstance(a, list):
        if len(a) != len(b):
            return f"{where}: {len(a)} items vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            found = _first_difference(x, y, f"{where}[{i}]")
            if found:
                return found
    elif a != b:
        return f"{where}: {a!r} vs {b!r}"
    return None


def test_reader_agrees_with_pyyaml():
    yaml = pytest.importorskip("yaml")
    text = DOCUMENT.read_text(encoding="utf-8")
    ours, theirs = read_yaml(text), yaml.safe_load(text)
    assert _strictly_equal(ours, theirs), _first_difference(ours, theirs)


# --- the document ------------------------------------------------------------

HTML = "text/html"
FORM = "application/x-www-form-urlencoded"

# Answers that are not (only) JSON, route by route: (METHOD, path) ->
# {status: the media types the document gives, set() for no body}. Every
# response not named here is application/json and nothing else. The 400s of
# the sign-in form are HTML pages for the person at the browser, but a slug
# that cannot be a tenant's is refused by the route table before the handler
# runs, in JSON: so both. So is the 503 of signing in: an HTML page when
# every code slot is taken, JSON when the database is down. The 302 has no
# body; its Location header is what the document describes and what the
# live test checks instead.
NOT_JSON_ANSWERS = {
    ("GET", "/dev-idp/{slug}/authorize"): {"200": {HTML}, "400": {HTML, JSON}},
    ("POST", "/dev-idp/{slug}/authorize"): {"302": set(), "400": {HTML, JSON},
                                             "503": {HTML, JSON}},
}
# Request bodies that are HTML form posts, not JSON objects: they have no
# field table (dev_idp.c reads them with from_form), so
# test_dev_idp_parameters_are_those_dev_idp_c_reads compares them with the
# source instead, and the live test posts them.
FORM_BODIES = {
    ("POST", "/dev-idp/{slug}/authorize"),
    ("POST", "/dev-idp/{slug}/token"),
}


@pytest.fixture(scope="module")
def doc():
    return read_yaml(DOCUMENT.read_text(encoding="utf-8"))


def deref(doc, node):
    """Follows "$ref": "#/components/..." (local references only)."""
    seen = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/") and ref not in seen, f"bad $ref {ref}"
        seen.add(ref)
        node = doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            assert isinstance(node, dict) and part in node, f"$ref {ref} leads nowhere"
            node = node[part]
    return node


def operations(doc):
    """{(METHOD, path template): operation} of the document."""
    found = {}
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            assert method in ("get", "put", "post", "delete", "patch", "head",
                              "options", "trace"), f"{path}: unexpected key {method!r}"
            found[(method.upper(), path)] = operation
    return found


def route_table():
    """{(METHOD, pattern): summary} from `tenantd --routes` (the route table)."""
    result = subprocess.run([str(BUILD / "tenantd" / "tenantd"), "--routes"],
                            capture_output=True, text=True, timeout=30, check=True)
    table = {}
    for line in result.stdout.splitlines():
        route, summary = line.split("\t", 1)
        method, pattern = route.split(" ")
        table[(method, pattern)] = summary
    assert table, result.stdout
    return table


def tenantd_routes():
    """{(METHOD, pattern)} from `tenantd --routes`."""
    return set(route_table())


def test_paths_and_methods_are_exactly_the_routes(doc):
    routes = tenantd_routes()
    documented = set(operations(doc))
    assert documented - routes == set(), "documented, but tenantd has no such route"
    assert routes - documented == set(), "tenantd routes missing from docs/openapi.yaml"


def test_summaries_are_those_of_the_route_table(doc):
    summaries = route_table()
    for route, operation in operations(doc).items():
        assert operation["summary"] == summaries[route], route


def route_kinds():
    """{(METHOD, pattern): kind} of the route table in api.c, kind one of
    "anonymous" (DEV_IDP_ROUTE(...), or a spelled-out { method, pattern,
    handler, needs_database, summary, anonymous, tenant_admins } whose
    anonymous member is true), "tenant" (TENANT_ROUTE(...): operators and
    tenant admins) or "operator" (OPERATOR_ROUTE(...))."""
    source = (TENANTD / "api.c").read_text()
    table = re.search(r"api_route_t routes\[\]\s*=\s*\{(.*?)\n\};", source, re.S).group(1)
    kinds = {"OPERATOR_ROUTE": "operator", "TENANT_ROUTE": "tenant",
             "DEV_IDP_ROUTE": "anonymous"}
    found = {}
    for macro, method, pattern in re.findall(
            r'(OPERATOR_ROUTE|TENANT_ROUTE|DEV_IDP_ROUTE)\(\s*"(\w+)",\s*"([^"]+)"', table):
        found[(method, pattern)] = kinds[macro]
    for method, pattern, anonymous, tenant in re.findall(
            r'\{\s*"(\w+)",\s*"([^"]+)",\s*\w+,\s*(?:true|false),\s*'
            r'(?:"(?:[^"\\]|\\.)*"\s*)+,\s*(true|false),\s*(true|false)\s*\}', table):
        found[(method, pattern)] = ("anonymous" if anonymous == "true"
                                    else "tenant" if tenant == "true" else "operator")
    assert set(found) == tenantd_routes(), "api.c's route table could not be read"
    return found


BOTH_AUDIENCES = [{"operatorToken": []}, {"tenantAdminToken": []}]


def test_routes_without_credentials_are_documented_so(doc):
    for route, kind in route_kinds().items():
        operation = operations(doc)[route]
        statuses = set(operation["responses"])
        if kind == "anonymous":
            assert operation.get("security") == [], f"{route}: needs no credentials"
            assert not statuses & {"401", "403"}, f"{route}: cannot answer 401/403"
            continue
        if kind == "tenant":
            assert operation.get("security") == BOTH_AUDIENCES, f"{route}: tenant admins too"
        else:
            assert "security" not in operation, f"{route}: the operatorToken applies"
        assert {"401", "403"} <= statuses, route


def media_types(route, status):
    """The media types the document must give for route's status."""
    return NOT_JSON_ANSWERS.get(route, {}).get(status, {JSON})


def test_not_json_exceptions_are_real(doc):
    """The exceptions name routes and statuses that exist, all of the
    development identity provider (the operators' API is JSON throughout)."""
    routes = tenantd_routes()
    assert set(NOT_JSON_ANSWERS) <= routes and FORM_BODIES <= routes
    assert all(route[1].startswith("/dev-idp/") for route in set(NOT_JSON_ANSWERS) | FORM_BODIES)
    for (method, path), statuses in NOT_JSON_ANSWERS.items():
        assert set(statuses) <= set(doc["paths"][path][method.lower()]["responses"]), path


def test_document_is_complete(doc):
    assert re.match(r"3\.1\.\d+\Z", doc["openapi"])
    assert doc["info"]["title"] == "llmoin management API"
    assert doc["info"]["version"] == "1"
    assert {server["url"] for server in doc["servers"]} >= {"http://127.0.0.1:8090"}
    token = doc["components"]["securitySchemes"]["operatorToken"]
    assert (token["type"], token["scheme"]) == ("http", "bearer")
    assert doc["security"] == [{"operatorToken": []}]
    operation_ids = []
    for (method, path), operation in operations(doc).items():
        where = f"{method} {path}"
        operation_ids.append(operation["operationId"])
        declared = {(p["name"], p["in"]): p for p in
                    (deref(doc, p) for p in operation.get("parameters", []))}
        for name in re.findall(r"\{(\w+)\}", path):
            assert (name, "path") in declared, f"{where}: path parameter {name} not declared"
            assert declared[(name, "path")]["required"] is True
        for (name, place) in declared:
            assert place != "path" or "{" + name + "}" in path, f"{where}: stray {name}"
        assert operation["responses"], where
        for status, response in operation["responses"].items():
            assert re.match(r"[1-5][0-9][0-9]\Z", status), f"{where}: status {status!r}"
            response = deref(doc, response)
            assert response["description"], f"{where} {status}"
            expected = media_types((method, path), status)
            if not expected:
                # No body (the 302 of the sign-in): its headers say it all.
                assert "content" not in response, f"{where} {status}"
                assert re.match(r"3[0-9][0-9]\Z", status), f"{where} {status}"
                assert response["headers"]["Location"]["required"] is True, where
                continue
            assert set(response["content"]) == expected, f"{where} {status}"
            for media in response["content"].values():
                assert "schema" in media, f"{where} {status}"
        if "requestBody" in operation:
            body = deref(doc, operation["requestBody"])
            kind = FORM if (method, path) in FORM_BODIES else JSON
            assert body["required"] is True and set(body["content"]) == {kind}, where
            assert {"400", "413"} <= set(operation["responses"]), where
        else:
            assert (method, path) not in FORM_BODIES, where
        if path != "/admin/v1/health":
            assert "503" in operation["responses"], where
    assert len(operation_ids) == len(set(operation_ids)), "operationIds repeat"
    health = doc["paths"]["/admin/v1/health"]["get"]
    assert health["security"] == [], "the health check needs no credentials"
    parameters = doc["components"]["parameters"]
    assert parameters["Slug"]["schema"]["pattern"] == "^[a-z][a-z0-9-]{1,31}$"
    assert parameters["KeyId"]["schema"]["pattern"] == "^key_[0-9a-f]{16}$"
    assert parameters["IssuerId"]["schema"]["pattern"] == "^[1-9][0-9]{0,17}$"
    assert parameters["UsageBy"]["schema"]["enum"] == ["day", "month", "user", "group",
                                                       "model", "function"]
    assert parameters["ReportMonth"]["schema"]["pattern"] == "^[0-9]{4}-[0-9]{2}$"
    assert parameters["LimitScope"]["schema"]["enum"] == ["tenant", "group", "user", "key"]
    assert parameters["UsageFrom"]["schema"]["format"] == "date"
    assert parameters["UsageTo"]["schema"]["format"] == "date"
    assert "404 not_found" in doc["info"]["description"]
    assert "405 method_not_allowed" in doc["info"]["description"]


def response_media(doc, operation):
    """(status, media type, media object) of every response body of an
    operation; a response without a body (302) has none."""
    for status, response in operation["responses"].items():
        for media_type, media in deref(doc, response).get("content", {}).items():
            yield status, media_type, media


def response_schemas(doc):
    """(where, schema) of every response body the document describes."""
    for (method, path), operation in operations(doc).items():
        for status, media_type, media in response_media(doc, operation):
            yield f"{method} {path} {status} {media_type}", media["schema"]


def object_schemas(doc, schema, where):
    """Every object schema reachable from schema (through $ref, properties,
    items and oneOf)."""
    schema = deref(doc, schema)
    if "properties" in schema:
        yield where, schema
        for name, sub in schema["properties"].items():
            yield from object_schemas(doc, sub, f"{where}.{name}")
    if "items" in schema:
        yield from object_schemas(doc, schema["items"], f"{where}[]")
    for i, sub in enumerate(schema.get("oneOf", [])):
        yield from object_schemas(doc, sub, f"{where}|{i}")


def test_response_objects_are_closed_and_complete(doc):
    """Every field of an answer is always there (null or not), and no other:
    so validating a real answer compares its field names with the document.
    (HTML answers are strings; they have no objects to close.)"""
    for where, schema in response_schemas(doc):
        for inner, obj in object_schemas(doc, schema, where):
            assert obj.get("additionalProperties") is False, f"{inner}: not closed"
            assert sorted(obj["required"]) == sorted(obj["properties"]), \
                f"{inner}: required is not every property"


def test_new_key_is_a_key_plus_the_secret(doc):
    schemas = doc["components"]["schemas"]
    new_key = dict(schemas["NewApiKey"]["properties"])
    assert set(new_key.pop("key")) >= {"type", "pattern"}
    assert _strictly_equal(new_key, schemas["ApiKey"]["properties"]), \
        "NewApiKey's properties must be ApiKey's and 'key'"


# --- reading the C sources -------------------------------------------------------

_C_TOKEN = re.compile(r'\s+|/\*.*?\*/|//[^\n]*|"(?:[^"\\\n]|\\.)*"|[A-Za-z_]\w*|[0-9]+|[{},]',
                      re.S)


def c_tokens(text):
    """The tokens of a piece of C that holds only initialisers: string
    literals, names, numbers, braces and commas (comments dropped)."""
    tokens, pos = [], 0
    while pos < len(text):
        match = _C_TOKEN.match(text, pos)
        assert match is not None, f"cannot read C near {text[pos:pos + 40]!r}"
        pos = match.end()
        token = match.group()
        if not token.isspace() and not token.startswith(("/*", "//")):
            tokens.append(token)
    return tokens


def only_simple_escapes(literal):
    """Whether a C string literal's escapes are only \\\\ and \\"."""
    return all(escaped in '"\\' for escaped in re.findall(r"\\(.)", literal))


def c_string(literals):
    """The value of adjacent C string literals (only \\\\ and \\" escapes)."""
    value = ""
    for literal in literals:
        assert literal.startswith('"'), f"not a string literal: {literal}"
        assert only_simple_escapes(literal), f"escape the test cannot read: {literal}"
        value += json.loads(literal)
    return value


def c_source(file_name):
    """A source file with its line continuations joined."""
    return (TENANTD / file_name).read_text().replace("\\\n", " ")


def c_defines(source):
    """{NAME: string} of the #defines that are string literals."""
    return {name: c_string(re.findall(r'"(?:[^"\\]|\\.)*"', value))
            for name, value in re.findall(
                r'^#define\s+(\w+)\s+((?:"(?:[^"\\]|\\.)*"\s*)+)$', source, re.M)}


def c_strings(file_name):
    """Every string a source file spells out: its literals (adjacent ones
    joined) and its #defined strings. Literals with escapes other than \\\\
    and \\" (HTML with \\n, say) are left out: no pattern has them."""
    source = c_source(file_name)
    found = set(c_defines(source).values())
    for run in re.findall(r'(?:"(?:[^"\\\n]|\\.)*"\s*)+', source):
        literals = re.findall(r'"(?:[^"\\\n]|\\.)*"', run)
        if all(only_simple_escapes(literal) for literal in literals):
            found.add(c_string(literals))
    return found


def c_function(file_name, name):
    """The text of a function definition (name at the start of a line)."""
    match = re.search(r"^" + name + r"\(.*?^\}$", c_source(file_name), re.M | re.S)
    assert match, f"{file_name}: no function {name}"
    return match.group()


FIELD_SPEC_MEMBERS = ["name", "type", "required", "nullable", "max_length", "pattern",
                      "pattern_help", "max_items"]


def test_field_spec_is_what_the_table_reader_knows():
    """field_table() reads entries of exactly these members in this order."""
    header = (TENANTD / "validate.h").read_text()
    body = re.search(r"typedef struct field_spec \{(.*?)\} field_spec_t;", header, re.S).group(1)
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    members = re.findall(r"(\w+);", body)
    assert members == FIELD_SPEC_MEMBERS
    end = re.search(r"#define FIELD_SPEC_END \{(.*?)\}", header).group(1)
    assert len(end.split(",")) == len(FIELD_SPEC_MEMBERS)


def field_tables(file_name):
    """{table name: [{member: value}]} of every field_spec_t table in a
    source file, #defined strings resolved, adjacent literals joined."""
    source = c_source(file_name)
    defines = c_defines(source)
    tables = {}
    for name, body in re.findall(r"field_spec_t\s+(\w+)\[\]\s*=\s*\{(.*?)\n\};", source, re.S):
        tokens, entries, i = c_tokens(body), [], 0
        while tokens[i] != "FIELD_SPEC_END":
            assert tokens[i] == "{", f"{file_name} {name}: entry expected at {tokens[i:i + 3]}"
            members, current, i = [], [], i + 1
            while tokens[i] != "}":
                if tokens[i] == ",":
                    members.append(current)
                    current = []
                else:
                    current.append(tokens[i])
                i += 1
            members.append(current)
            i += 1
            if tokens[i] == ",":
                i += 1
            assert len(members) == len(FIELD_SPEC_MEMBERS), \
                f"{file_name} {name}: an entry of {len(members)} members: {members}"
            entry = {}
            for member, value in zip(FIELD_SPEC_MEMBERS, members):
                if value[0].startswith('"'):
                    entry[member] = c_string(value)
                elif len(value) == 1 and value[0] in defines:
                    entry[member] = defines[value[0]]
                elif value == ["NULL"]:
                    entry[member] = None
                elif len(value) == 1 and value[0] in ("true", "false"):
                    entry[member] = value[0] == "true"
                elif len(value) == 1 and value[0].isdigit():
                    entry[member] = int(value[0])
                elif member == "type" and len(value) == 1 and value[0].startswith("JSON_"):
                    entry[member] = value[0][len("JSON_"):]
                else:
                    raise AssertionError(f"{file_name} {name}: cannot read {member} {value}")
            entries.append(entry)
        assert tokens[i + 1:] in ([], [","]), f"{file_name} {name}: after FIELD_SPEC_END"
        assert entries, f"{file_name}: {name} is empty"
        tables[name] = entries
    return tables


def all_field_tables():
    """{(file, table): entries} of every field_spec_t table in tenantd/*.c."""
    found = {}
    for path in sorted(TENANTD.glob("*.c")):
        for table, entries in field_tables(path.name).items():
            found[(path.name, table)] = entries
    return found


def test_the_table_reader_reads_what_it_is_given():
    """Every entry of every table came out whole: the reader neither dropped
    a member nor misread one (a pattern from a #define over several lines,
    help text in adjacent literals)."""
    tables = all_field_tables()
    assert len(tables) >= 2
    kinds = set()
    for (file_name, table), entries in tables.items():
        for entry in entries:
            where = f"{file_name} {table} {entry['name']}"
            kinds.add(entry["type"])
            assert isinstance(entry["name"], str) and entry["type"] in SCHEMA_TYPES, where
            assert isinstance(entry["required"], bool) and isinstance(entry["nullable"], bool)
            assert isinstance(entry["max_length"], int) and isinstance(entry["max_items"], int)
            assert (entry["pattern"] is None) == (entry["pattern_help"] is None), where
            assert entry["pattern"] is None or (entry["pattern"].startswith("^")
                                                and entry["pattern"].endswith("$")), where
            assert (entry["type"] == "ARRAY") == (entry["max_items"] > 0), where
    assert kinds >= {"STRING", "ARRAY", "OBJECT", "INTEGER", "TRUE"}, \
        "the handlers' tables hold every kind of field the reader knows"


# --- request bodies against the handlers' field tables -------------------------

# Handler source file and field table -> the operation whose body it checks.
FIELD_TABLES = {
    ("tenants.c", "create_fields"): ("POST", "/admin/v1/tenants"),
    ("tenants.c", "update_fields"): ("PATCH", "/admin/v1/tenants/{slug}"),
    ("keys.c", "create_fields"): ("POST", "/admin/v1/tenants/{slug}/keys"),
    ("issuers.c", "add_fields"): ("POST", "/admin/v1/tenants/{slug}/issuers"),
    ("tenant_models.c", "allow_fields"): ("POST", "/admin/v1/tenants/{slug}/models"),
    ("pools.c", "pool_fields"): ("PUT", "/admin/v1/pools/{pool}"),
    ("limits.c", "put_fields"): ("PUT", "/admin/v1/tenants/{slug}/limits"),
    ("models.c", "model_fields"): ("POST", "/admin/v1/models"),
    ("dev_idp_admin.c", "token_fields"): ("POST", "/admin/v1/tenants/{slug}/dev-token"),
    ("tenants_offboard.c", "confirm_fields"): ("POST", "/admin/v1/tenants/{slug}/offboard"),
}
# Bodies without a field table of their own: the apply document's parts are
# checked with the tables of the handlers that get them (tenant_apply.c),
# and test_apply_document_is_made_of_the_handlers_bodies checks that the
# document's schema is made of those bodies' schemas.
COMPOSED_BODIES = {("POST", "/admin/v1/apply")}
# The path parameters' table is compared with components/parameters instead.
PATH_PARAMETERS = ("api.c", "path_parameters")
# field_spec_t's json_type -> JSON Schema's type (JSON_TRUE stands for a boolean).
SCHEMA_TYPES = {"STRING": "string", "ARRAY": "array", "OBJECT": "object",
                "INTEGER": "integer", "REAL": "number", "TRUE": "boolean"}
# POSIX bracket classes (glibc regcomp, C locale) in ECMA-262 regex terms, longest first.
POSIX_CLASSES = [("[:cntrl:][:space:]", r"\x00-\x20\x7F"),
                 ("[:space:][:cntrl:]", r"\x00-\x20\x7F"),
                 ("[:cntrl:]", r"\x00-\x1F\x7F")]


def ecma_pattern(pattern, strict=True):
    """A POSIX extended regex of tenantd's in the document's terms; strict:
    fail on a bracket class POSIX_CLASSES does not translate."""
    if pattern is not None:
        for posix, ecma in POSIX_CLASSES:
            pattern = pattern.replace(posix, ecma)
        assert not (strict and re.search(r"\[:[a-z]+:\]", pattern)), \
            f"a POSIX class the test does not know: {pattern}"
    return pattern


def test_every_field_table_is_a_documented_body(doc):
    assert set(all_field_tables()) == set(FIELD_TABLES) | {PATH_PARAMETERS}
    json_bodies = {route for route, operation in operations(doc).items()
                   if "requestBody" in operation and route not in FORM_BODIES}
    assert json_bodies == set(FIELD_TABLES.values()) | COMPOSED_BODIES


def test_apply_document_is_made_of_the_handlers_bodies(doc):
    """POST /admin/v1/apply's document: the members tenant_apply.c takes,
    each a body (or a member of a body) of the endpoint whose handler gets
    it, so that the field tables checked above cover it."""
    schemas = "#/components/schemas/"
    document = deref(doc, doc["paths"]["/admin/v1/apply"]["post"]["requestBody"])[
        "content"][JSON]["schema"]
    document = deref(doc, document)
    members = re.search(r"document_members\[\]\s*=\s*\{(.*?)\};", c_source("tenant_apply.c"),
                        re.S).group(1)
    assert set(document["properties"]) == set(re.findall(r'"(\w+)"', members))
    assert document["additionalProperties"] is False
    assert set(document["required"]) == {"slug", "name"}
    for name in ("slug", "name"):
        assert document["properties"][name] == {
            "$ref": f"{schemas}CreateTenantRequest/properties/{name}"}
    assert document["properties"]["hosts"] == {
        "$ref": f"{schemas}UpdateTenantRequest/properties/hosts"}
    settings = document["properties"]["settings"]
    assert settings["additionalProperties"] is False
    update = doc["components"]["schemas"]["UpdateTenantRequest"]["properties"]
    assert set(settings["properties"]) == set(update) - {"name", "hosts"}
    for name, schema in settings["properties"].items():
        assert schema == {"$ref": f"{schemas}UpdateTenantRequest/properties/{name}"}
    for section, route in (("issuers", ("POST", "/admin/v1/tenants/{slug}/issuers")),
                           ("models", ("POST", "/admin/v1/tenants/{slug}/models"))):
        body = deref(doc, doc["paths"][route[1]][route[0].lower()]["requestBody"])
        assert document["properties"][section]["items"] == body["content"][JSON]["schema"]
    limit = deref(doc, document["properties"]["limits"]["items"])
    put = doc["components"]["schemas"]["PutLimitRequest"]
    assert set(limit["properties"]) == set(put["properties"])
    for name, schema in limit["properties"].items():
        assert schema == {"$ref": f"{schemas}PutLimitRequest/properties/{name}"}
    assert limit["required"] == ["scope"], "a limit's subject may be left out"


def test_request_bodies_are_the_handlers_field_tables(doc):
    tables = all_field_tables()
    for table, (method, path) in FIELD_TABLES.items():
        operation = doc["paths"][path][method.lower()]
        schema = deref(doc, deref(doc, operation["requestBody"])["content"][JSON]["schema"])
        where = f"{method} {path} body"
        fields = tables[table]
        assert schema["type"] == "object" and schema["additionalProperties"] is False, where
        assert set(schema["properties"]) == {f["name"] for f in fields}, where
        assert set(schema.get("required", [])) == {f["name"] for f in fields if f["required"]}, \
            where
        for field in fields:
            name = field["name"]
            prop = schema["properties"][name]
            types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
            assert set(types) == {SCHEMA_TYPES[field["type"]]} | (
                {"null"} if field["nullable"] else set()), f"{where}: {name} type"
            if field["type"] == "ARRAY":
                # validate.c: at most max_items elements, each a string
                # checked like a string field.
                assert prop.get("maxItems") == field["max_items"], f"{where}: {name} maxItems"
                items = prop["items"]
                assert items["type"] == "string", f"{where}: {name} items"
                assert "maxLength" not in prop and "pattern" not in prop, f"{where}: {name}"
            else:
                assert field["max_items"] == 0, f"{table}: {name} is no list"
                assert "maxItems" not in prop and "items" not in prop, f"{where}: {name}"
                items = prop
            assert items.get("maxLength", 0) == field["max_length"], f"{where}: {name} maxLength"
            assert items.get("pattern") == ecma_pattern(field["pattern"]), \
                f"{where}: {name} pattern"
        assert "400" in operation["responses"] and "413" in operation["responses"], where


def test_path_parameters_are_the_route_tables(doc):
    documented = {p["name"]: p for p in doc["components"]["parameters"].values()
                  if p["in"] == "path"}
    table = all_field_tables()[PATH_PARAMETERS]
    assert set(documented) == {f["name"] for f in table}
    for field in table:
        schema = documented[field["name"]]["schema"]
        assert schema["type"] == "string", field["name"]
        assert schema.get("maxLength", 0) == field["max_length"], field["name"]
        assert schema["pattern"] == ecma_pattern(field["pattern"]), field["name"]


def names_read(body, reader):
    """(all, optional, bounded) names a dev_idp.c function reads with
    reader(request, "name", ...): optional are those read by a statement of
    their own, whose answer nobody looks at, and those read with
    is_too_long(request, reader, "name", out->member, sizeof(out->member)),
    which may be absent but are refused when present and not readable;
    bounded is {name: member} of the latter."""
    every = set(re.findall(reader + r'\(request, "(\w+)"', body))
    optional = set(re.findall(r"^\s*" + reader + r'\(request, "(\w+)"', body, re.M))
    bounded = dict(re.findall(r'is_too_long\(request, ' + reader
                              + r', "(\w+)",\s*out->(\w+), sizeof\(out->\2\)\)', body))
    assert len(bounded) == body.count("is_too_long("), "an is_too_long call the test cannot read"
    return every | set(bounded), optional | set(bounded), bounded


def authorize_request_sizes():
    """{member: buffer size} of the char arrays of authorize_request_t in
    dev_idp.c (sizes spelled as numbers or #defined ones)."""
    source = c_source("dev_idp.c")
    numbers = dict(re.findall(r"^#define\s+(\w+)\s+([0-9]+)\s*$", source, re.M))
    body = re.search(r"typedef struct authorize_request \{(.*?)\} authorize_request_t;",
                     source, re.S).group(1)
    members = re.findall(r"char\s+(\w+)\[(\w+)\];", body)
    assert members and len(members) == body.count(";"), body
    return {name: int(numbers.get(size, size)) for name, size in members}


def test_dev_idp_parameters_are_those_dev_idp_c_reads(doc):
    """The sign-in's query and form parameters have no field table:
    dev_idp.c reads them one by one. The document names exactly what it
    reads, requires what it insists on, and its patterns are dev_idp.c's."""
    asked, asked_optional, bounded = names_read(c_function("dev_idp.c", "read_authorize"),
                                                "source")
    entered, entered_optional, _ = names_read(
        c_function("dev_idp.c", "dev_idp_authorize_submit"), "from_form")
    granted, granted_optional, _ = names_read(c_function("dev_idp.c", "check_grant"),
                                              "from_form")
    # is_too_long() reads through the source it is given and refuses only a
    # value that is there: so what it reads is optional, at most as long as
    # the buffer it is read into holds (its size less the NUL).
    helper = c_function("dev_idp.c", "is_too_long")
    assert "source(request, name, out, size)" in helper, helper
    assert bounded, "read_authorize reads state and nonce with is_too_long"
    sizes = authorize_request_sizes()
    form = doc["paths"]["/dev-idp/{slug}/authorize"]["get"]
    query = {p["name"]: p for p in (deref(doc, p) for p in form["parameters"])
             if p["in"] == "query"}
    assert set(query) == asked
    assert {name for name, p in query.items() if p["required"]} == asked - asked_optional
    sign_in = deref(doc, deref(doc, doc["paths"]["/dev-idp/{slug}/authorize"]["post"][
        "requestBody"])["content"][FORM]["schema"])
    for name, member in bounded.items():
        for where, schema in (("query", query[name]["schema"]),
                              ("form", sign_in["properties"][name])):
            assert deref(doc, schema).get("maxLength") == sizes[member] - 1, \
                f"{where} {name}: maxLength is not what out->{member} holds"
    expected = {
        ("POST", "/dev-idp/{slug}/authorize"): (asked | entered,
                                                 asked_optional | entered_optional),
        ("POST", "/dev-idp/{slug}/token"): (granted, granted_optional),
    }
    assert set(expected) == FORM_BODIES
    schemas = [p["schema"] for p in query.values()]
    for (method, path), (names, optional) in expected.items():
        operation = doc["paths"][path][method.lower()]
        schema = deref(doc, deref(doc, operation["requestBody"])["content"][FORM]["schema"])
        assert set(schema["properties"]) == names, path
        assert set(schema["required"]) == names - optional, path
        assert all(deref(doc, p)["type"] == "string" for p in schema["properties"].values())
        schemas += list(schema["properties"].values())
    used = {ecma_pattern(text, strict=False) for text in c_strings("dev_idp.c")}
    for schema in schemas:
        schema = deref(doc, schema)
        if "pattern" in schema:
            assert schema["pattern"] in used, f"dev_idp.c has no pattern {schema['pattern']}"


# --- error codes ---------------------------------------------------------------

def source_errors():
    """{(status, code)} tenantd/*.c can answer with."""
    found = set()
    for path in TENANTD.glob("*.c"):
        source = path.read_text()
        found |= {(int(status), code) for status, code in re.findall(
            r'api_error\(\s*\w+,\s*(\d{3}),\s*"\w+",\s*"(\w+)"', source)}
        found |= {(404, code) for code in re.findall(r'\.not_found_code\s*=\s*"(\w+)"', source)}
        found |= {(409, code) for code in re.findall(r'\.in_use_code\s*=\s*"(\w+)"', source)}
        # caller.c: a refused credential, answered by dispatch
        found |= {(int(status), code) for status, code in re.findall(
            r'refuse\(\s*\w+,\s*(\d{3}),\s*"(\w+)"', source)}
    assert len(found) > 5, "no api_error calls found"
    return found


def source_oauth_errors():
    """The OAuth error codes (RFC 6749 5.2) the token endpoint answers with."""
    found = set(re.findall(r'oauth_error\(\s*\w+,\s*"(\w+)"', c_source("dev_idp.c")))
    assert found, "no oauth_error calls found"
    return found


def error_codes(doc):
    return doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]


def example_values(media):
    if "example" in media:
        yield "example", media["example"]
    for name, example in media.get("examples", {}).items():
        yield name, example["value"]


def documented_codes(doc, operation, status):
    """Error codes the examples of an operation's JSON response for status
    show (OAuth errors, whose "error" is a string, are not Error codes)."""
    media = deref(doc, operation["responses"][str(status)])["content"][JSON]
    return {value["error"]["code"] for _, value in example_values(media)
            if isinstance(value.get("error"), dict)}


def test_error_codes_are_those_of_the_sources(doc):
    codes = error_codes(doc)
    assert set(codes["enum"]) == {code for _, code in source_errors()}
    for code in codes["enum"]:
        assert code in codes["description"], f"{code} not explained"
    # Each code is shown, with its status, at an operation that can answer it;
    # unknown paths and methods are explained in info.description instead.
    shown = {(int(status), code)
             for operation in operations(doc).values()
             for status, media_type, media in response_media(doc, operation)
             if media_type == JSON
             and media["schema"] == {"$ref": "#/components/schemas/Error"}
             for code in documented_codes(doc, operation, status)}
    for status, code in source_errors():
        if code in ("not_found", "method_not_allowed"):
            assert f"{status} {code}" in doc["info"]["description"]
        else:
            assert (status, code) in shown, f"{status} {code} is at no operation"


def test_oauth_error_codes_are_those_of_dev_idp_c(doc):
    oauth = doc["components"]["schemas"]["OAuthError"]["properties"]["error"]
    assert set(oauth["enum"]) == source_oauth_errors()
    token = doc["paths"]["/dev-idp/{slug}/token"]["post"]
    shown = {value["error"] for _, value in example_values(
        deref(doc, token["responses"]["400"])["content"][JSON])
        if isinstance(value.get("error"), str)}
    assert shown == source_oauth_errors()


# --- a validator for the part of JSON Schema the document uses -------------------

JSON_TYPES = {"null": type(None), "boolean": bool, "string": str, "array": list,
              "object": dict, "integer": int, "number": (int, float)}
ANNOTATIONS = {"description", "default", "example", "examples", "title"}


def conform(doc, schema, value, where="$"):
    """Problems of value against schema; [] when it fits. Knows $ref, type,
    enum, properties, required, additionalProperties, minProperties, items,
    maxItems, maxLength, minLength, pattern, format (date, date-time),
    minimum, maximum and oneOf (exactly one must fit); any other keyword is
    a problem, so the document cannot use what this does not check."""
    schema = deref(doc, schema)
    unknown = set(schema) - ANNOTATIONS - {
        "type", "enum", "properties", "required", "additionalProperties", "minProperties",
        "items", "maxItems", "maxLength", "minLength", "pattern", "format", "minimum",
        "maximum", "oneOf"}
    if unknown:
        return [f"{where}: the test does not know {sorted(unknown)}"]
    if "oneOf" in schema:
        fitting = [i for i, sub in enumerate(schema["oneOf"])
                   if conform(doc, sub, value, f"{where}|{i}") == []]
        if len(fitting) != 1:
            return [f"{where}: {value!r} fits {len(fitting)} of oneOf, not exactly one: "
                    + "; ".join(p for i, sub in enumerate(schema["oneOf"])
                                for p in conform(doc, sub, value, f"{where}|{i}"))]
    types = schema.get("type", [])
    types = types if isinstance(types, list) else [types]
    if types and not any(isinstance(value, JSON_TYPES[t])
                         and not (t in ("integer", "number") and isinstance(value, bool))
                         for t in types):
        return [f"{where}: {value!r} is not {' or '.join(types)}"]
    if value is None:
        return []
    problems = []
    if "enum" in schema and not any(_strictly_equal(value, e) for e in schema["enum"]):
        problems.append(f"{where}: {value!r} not in {schema['enum']}")
    if isinstance(value, str):
        if len(value) > schema.get("maxLength", len(value)):
            problems.append(f"{where}: longer than {schema['maxLength']}")
        if len(value) < schema.get("minLength", 0):
            problems.append(f"{where}: shorter than {schema['minLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            problems.append(f"{where}: {value!r} does not match {schema['pattern']}")
        try:
            if schema.get("format") == "date":
                datetime.date.fromisoformat(value)
            elif schema.get("format") == "date-time":
                datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            problems.append(f"{where}: {value!r} is no {schema['format']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < schema.get("minimum", value):
            problems.append(f"{where}: {value} below {schema['minimum']}")
        if value > schema.get("maximum", value):
            problems.append(f"{where}: {value} above {schema['maximum']}")
    if isinstance(value, list):
        if len(value) > schema.get("maxItems", len(value)):
            problems.append(f"{where}: more than {schema['maxItems']} items")
        if "items" in schema:
            for i, item in enumerate(value):
                problems += conform(doc, schema["items"], item, f"{where}[{i}]")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        missing = set(schema.get("required", [])) - set(value)
        if missing:
            problems.append(f"{where}: missing {sorted(missing)}")
        if len(value) < schema.get("minProperties", 0):
            problems.append(f"{where}: fewer than {schema['minProperties']} members")
        if schema.get("additionalProperties") is False and set(value) - set(properties):
            problems.append(f"{where}: undocumented {sorted(set(value) - set(properties))}")
        for name, item in value.items():
            if name in properties:
                problems += conform(doc, properties[name], item, f"{where}.{name}")
    return problems


def test_the_validator_knows_what_it_says():
    schema = {"oneOf": [{"type": "object", "required": ["a"], "properties": {"a": {}}},
                        {"type": "object", "required": ["b"], "properties": {"b": {}}}]}
    assert conform({}, schema, {"a": 1}) == []
    assert conform({}, schema, {"a": 1, "b": 2}) != [], "fits both"
    assert conform({}, schema, {}) != [], "fits neither"
    assert conform({}, {"type": "array", "maxItems": 1}, [1, 2]) != []
    assert conform({}, {"type": "object", "minProperties": 1}, {}) != []
    assert conform({}, {"type": "integer", "maximum": 600}, 601) != []
    assert conform({}, {"type": "string", "minLength": 1}, "") != []
    assert conform({}, {"type": "boolean", "enum": [False]}, False) == []
    assert conform({}, {"type": "integer", "enum": [0]}, False) != []
    assert conform({}, {"type": "string", "if": {}}, "x") != [], "unknown keyword"


def test_examples_fit_their_schemas(doc):
    count = 0
    for (method, path), operation in operations(doc).items():
        media = []
        if "requestBody" in operation:
            media += [(f"body {media_type}", content) for media_type, content in
                      deref(doc, operation["requestBody"])["content"].items()]
        for status, response in operation["responses"].items():
            response = deref(doc, response)
            media += [(f"{status} {media_type}", content)
                      for media_type, content in response.get("content", {}).items()]
            for name, header in response.get("headers", {}).items():
                # A response without a body: its headers carry the examples.
                assert "example" in header, f"{method} {path} {status} {name}: no example"
                count += 1
                assert conform(doc, header["schema"], header["example"]) == [], \
                    f"{method} {path} {status} {name}"
        for what, content in media:
            examples = list(example_values(content))
            assert examples, f"{method} {path} {what}: no example"
            for name, value in examples:
                count += 1
                assert conform(doc, content["schema"], value) == [], \
                    f"{method} {path} {what} {name}: {conform(doc, content['schema'], value)}"
        for parameter in operation.get("parameters", []):
            parameter = deref(doc, parameter)
            if "example" in parameter:
                assert conform(doc, parameter["schema"], parameter["example"]) == []
    assert count > 60


# --- talking to tenantd ----------------------------------------------------------


def call(stack, method, path, body=None):
    """(status, JSON answer) of one request on tenantd's unix socket; body is
    a JSON value, or bytes sent as they are."""
    if body is not None and not isinstance(body, bytes):
        body = json.dumps(body, ensure_ascii=False).encode()
    connection = UnixHTTPConnection(stack.env["LLMOIN_SOCKET"])
    try:
        connection.request(method, path, body=body,
                           headers={"Content-Type": JSON} if body is not None else {})
        response = connection.getresponse()
        text = response.read()
        assert response.getheader("Content-Type") == JSON, (method, path)
        return response.status, json.loads(text)
    finally:
        connection.close()


def check_answer(doc, method, template, status, answer, media_type=JSON):
    """The answer fits the schema the document gives for this status."""
    operation = doc["paths"][template][method.lower()]
    assert str(status) in operation["responses"], \
        f"{method} {template} answered {status}, which is not documented: {answer}"
    content = deref(doc, operation["responses"][str(status)]).get("content", {})
    assert media_type in content, \
        f"{method} {template} {status} answered {media_type}, documented: {sorted(content)}"
    problems = conform(doc, content[media_type]["schema"], answer)
    assert problems == [], f"{method} {template} {status}: {problems}"


def check_response(doc, method, template, response):
    """A requests.Response fits the document: its status is documented, its
    media type is one documented for it (application/json exactly, others
    in UTF-8), its body fits that schema; a response documented without a
    body has none, and its documented headers fit theirs. Returns the body:
    JSON read, text as text, None for none."""
    operation = doc["paths"][template][method.lower()]
    status = str(response.status_code)
    assert status in operation["responses"], \
        f"{method} {template} answered {status}, which is not documented: {response.text}"
    documented = deref(doc, operation["responses"][status])
    for name, header in documented.get("headers", {}).items():
        value = response.headers.get(name)
        assert value is not None or not header.get("required"), f"{method} {template}: {name}"
        if value is not None:
            assert conform(doc, header["schema"], value) == [], \
                f"{method} {template} {status} {name}: {conform(doc, header['schema'], value)}"
    if "content" not in documented:
        assert response.content == b"", f"{method} {template} {status}: a body"
        return None
    content_type = response.headers["Content-Type"]
    media_type = content_type.split(";")[0].strip()
    if media_type == JSON:
        assert content_type == JSON
        answer = response.json()
    else:
        assert content_type == f"{media_type}; charset=utf-8", content_type
        answer = response.content.decode("utf-8")
    check_answer(doc, method, template, status, answer, media_type)
    return answer


def pkce_pair():
    """(code_verifier, code_challenge) for PKCE S256 (RFC 7636)."""
    verifier = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def jwt_part(token, index):
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def jwt_claims(token):
    """The claims of a JWT, unverified (the gateway's tests verify them)."""
    return jwt_part(token, 1)


def epoch(timestamp):
    return int(datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp())


def test_every_route_answers_as_documented(stack, doc):
    called = set()
    tcp = stack.env["LLMOIN_TENANTD_URL"]

    def api(method, template, path=None, body=None, status=200):
        """An operator's request on the unix socket."""
        got, answer = call(stack, method, path or template, body)
        assert got == status, f"{method} {path or template}: {got} {answer}"
        check_answer(doc, method, template, got, answer)
        called.add((method, template))
        return answer

    def browser(method, template, path, status, params=None, form=None):
        """A request of a browser or an OAuth client: over TCP, without
        credentials, redirects not followed."""
        response = requests.request(method, tcp + path, params=params, data=form,
                                    allow_redirects=False, timeout=10)
        assert response.status_code == status, f"{method} {path}: {response.text}"
        answer = check_response(doc, method, template, response)
        called.add((method, template))
        return response, answer

    api("GET", "/admin/v1/health")
    assert api("GET", "/admin/v1/me") == {"caller": f"unix:uid={os.getuid()}",
                                          "role": "operator", "tenant": None}
    tenant = api("POST", "/admin/v1/tenants", body={
        "slug": "hamburg", "name": "Freie und Hansestadt Hamburg"}, status=201)
    assert tenant["status"] == "active"
    assert (tenant["hosts"], tenant["models_restricted"], tenant["dev_idp"]) == ([], False, False)
    assert api("GET", "/admin/v1/tenants")["data"]
    api("GET", "/admin/v1/tenants/{slug}", "/admin/v1/tenants/hamburg")
    hosts = ["llmoin.hamburg.de", "ki.hamburg.de"]
    changed = api("PATCH", "/admin/v1/tenants/{slug}", "/admin/v1/tenants/hamburg",
                  {"hosts": hosts})
    assert (changed["hosts"], changed["name"]) == (hosts, tenant["name"])

    # Pools: a new one, described anew, in use by a model alias, removed
    # once the alias moved away.
    pool, template = "/admin/v1/pools/gpu_hh", "/admin/v1/pools/{pool}"
    assert api("PUT", template, pool, {"description": "H100 in Hamburg"}, status=201) == {
        "name": "gpu_hh", "description": "H100 in Hamburg", "models": 0,
        "created_at": api("GET", "/admin/v1/pools")["data"][1]["created_at"]}
    assert api("PUT", template, pool, {"description": "H100, 8 GPUs"})["description"] \
        == "H100, 8 GPUs"
    api("POST", "/admin/v1/models", body={"alias": "openapi/pooled", "pool": "gpu_hh"},
        status=201)
    assert [p["models"] for p in api("GET", "/admin/v1/pools")["data"]] == [1, 1]
    api("DELETE", template, pool, status=409)
    api("POST", "/admin/v1/models", body={"alias": "openapi/pooled", "pool": "default"})
    assert api("DELETE", template, pool)["name"] == "gpu_hh"
    api("DELETE", template, pool, status=404)

    model = {"alias": "openapi/probe-1.0", "pool": "default"}
    assert api("POST", "/admin/v1/models", body=model, status=201)["upstream_model"] is None
    changed = api("POST", "/admin/v1/models", body={**model, "upstream_model": "probe"})
    assert changed["upstream_model"] == "probe"
    assert model["alias"] in [m["alias"] for m in api("GET", "/admin/v1/models")["data"]]

    # The allow-list: allowing restricts, taking the last one off keeps it so.
    allowed = api("POST", "/admin/v1/tenants/{slug}/models", "/admin/v1/tenants/hamburg/models",
                  model)
    assert allowed == {"tenant": "hamburg", "models_restricted": True, "data": [
        {"alias": model["alias"], "pool": "default", "dedicated_pool": True}]}
    assert api("GET", "/admin/v1/tenants/{slug}/models",
               "/admin/v1/tenants/hamburg/models") == allowed
    alias = urllib.parse.quote(model["alias"], safe="")
    assert api("DELETE", "/admin/v1/tenants/{slug}/models",
               f"/admin/v1/tenants/hamburg/models?alias={alias}") == {
        "tenant": "hamburg", "models_restricted": True, "data": []}
    lifted = api("PATCH", "/admin/v1/tenants/{slug}", "/admin/v1/tenants/hamburg",
                 {"models_restricted": False})
    assert (lifted["models_restricted"], lifted["hosts"]) == (False, hosts)

    keys = "/admin/v1/tenants/hamburg/keys"
    alice = api("POST", "/admin/v1/tenants/{slug}/keys", keys,
                {"user": "alice", "name": "Fachverfahren X", "expires_at": "2099-12-31",
                 "models": [model["alias"]]}, status=201)
    assert alice["models"] == [model["alias"]]
    assert alice["expires_at"] == "2099-12-30T23:00:00Z", "a date starts in Europe/Berlin"
    bob = api("POST", "/admin/v1/tenants/{slug}/keys", keys, {"user": "bob"}, status=201)
    assert (bob["name"], bob["models"], bob["expires_at"]) == (None, None, None)
    listed = api("GET", "/admin/v1/tenants/{slug}/keys", keys)["data"]
    assert [key["id"] for key in listed] == [alice["id"], bob["id"]]
    assert all("key" not in key for key in listed), "a list shows a secret key"
    revoked = api("POST", "/admin/v1/keys/{key_id}/revoke",
                  f"/admin/v1/keys/{bob['id']}/revoke")
    assert revoked["revoked_at"] is not None

    # Limits: the tenant's own row, a default, a key and a group; null lifts
    # a kind, a row left without any is gone; the cap and fail mode come
    # with the list and change with the tenant.
    limits, template = "/admin/v1/tenants/hamburg/limits", "/admin/v1/tenants/{slug}/limits"
    assert api("GET", template, limits) == {"tenant": "hamburg", "max_tokens_cap": 4096,
                                            "quota_fail_mode": "closed", "data": []}
    api("PUT", template, limits, {"scope": "tenant", "subject": "", "rpm": 600, "tpm": 200000})
    api("PUT", template, limits, {"scope": "user", "subject": "", "rpm": 30, "concurrent": 4})
    api("PUT", template, limits, {"scope": "key", "subject": alice["id"], "monthly_tokens": 1000})
    listed = api("PUT", template, limits, {"scope": "group", "subject": "referat-1", "tpm": 5000})
    assert [(row["scope"], row["subject"]) for row in listed["data"]] == [
        ("tenant", ""), ("group", "referat-1"), ("user", ""), ("key", alice["id"])]
    assert listed["data"][0] == {"scope": "tenant", "subject": "", "rpm": 600, "tpm": 200000,
                                 "concurrent": None, "monthly_tokens": None}
    changed = api("PUT", template, limits, {"scope": "user", "subject": "", "rpm": None,
                                            "monthly_tokens": 10**12})
    assert changed["data"][2] == {"scope": "user", "subject": "", "rpm": None, "tpm": None,
                                  "concurrent": 4, "monthly_tokens": 10**12}
    lifted = api("PUT", template, limits, {"scope": "group", "subject": "referat-1", "tpm": None})
    assert "group" not in [row["scope"] for row in lifted["data"]]
    quota = api("PATCH", "/admin/v1/tenants/{slug}", "/admin/v1/tenants/hamburg",
                {"max_tokens_cap": 8192, "quota_fail_mode": "open"})
    assert (quota["max_tokens_cap"], quota["quota_fail_mode"], quota["hosts"]) == (
        8192, "open", hosts)
    cleared = api("DELETE", template, f"{limits}?scope=user&subject=")
    assert (cleared["max_tokens_cap"], cleared["quota_fail_mode"]) == (8192, "open")
    assert [row["scope"] for row in cleared["data"]] == ["tenant", "key"]
    suspended = api("POST", "/admin/v1/tenants/{slug}/suspend", "/admin/v1/tenants/hamburg/suspend")
    assert suspended["status"] == "suspended"
    resumed = api("POST", "/admin/v1/tenants/{slug}/resume", "/admin/v1/tenants/hamburg/resume")
    assert resumed["status"] == "active"

    # The development identity provider: on, a dev token, then the code flow
    # as a browser and a client go through it.
    provider = api("POST", "/admin/v1/tenants/{slug}/dev-idp", "/admin/v1/tenants/hamburg/dev-idp")
    issuer = provider["issuer"]
    assert issuer.endswith("/dev-idp/hamburg")
    assert api("GET", "/admin/v1/tenants/{slug}", "/admin/v1/tenants/hamburg")["dev_idp"] is True
    issuers = "/admin/v1/tenants/hamburg/issuers"
    trusted = api("GET", "/admin/v1/tenants/{slug}/issuers", issuers)["data"]
    assert [(i["issuer"], i["keys"], i["jwks_uri"]) for i in trusted] == [(issuer, 1, None)]
    minted = api("POST", "/admin/v1/tenants/{slug}/dev-token", "/admin/v1/tenants/hamburg/dev-token",
                 {"user": "alice", "groups": ["referat-1"], "ttl_seconds": 600}, status=201)
    claims = jwt_claims(minted["token"])
    assert minted["issuer"] == claims["iss"] == issuer
    assert (claims["sub"], claims["aud"], claims["groups"]) == ("alice", "llmoin", ["referat-1"])
    assert claims["exp"] == epoch(minted["expires_at"]) == claims["iat"] + 600

    _, discovery = browser("GET", "/dev-idp/{slug}/.well-known/openid-configuration",
                           "/dev-idp/hamburg/.well-known/openid-configuration", 200)
    assert discovery["issuer"] == issuer and discovery["jwks_uri"] == issuer + "/jwks"
    assert provider["discovery"] == issuer + "/.well-known/openid-configuration"
    _, jwks = browser("GET", "/dev-idp/{slug}/jwks", "/dev-idp/hamburg/jwks", 200)
    assert [key["kid"] for key in jwks["keys"]] == [jwt_part(minted["token"], 0)["kid"]]

    authorize = "/dev-idp/{slug}/authorize"
    verifier, challenge = pkce_pair()
    query = {"response_type": "code", "client_id": "openapi-probe",
             "redirect_uri": "http://127.0.0.1:9/callback?from=openapi",
             "code_challenge": challenge, "code_challenge_method": "S256",
             "state": "zustand 1/2", "nonce": "n-0S6_WzA2Mj"}
    _, page = browser("GET", authorize, "/dev-idp/hamburg/authorize", 200, params=query)
    assert f'name="code_challenge" value="{challenge}"' in page
    _, refused = browser("GET", authorize, "/dev-idp/hamburg/authorize", 400,
                         params={**query, "redirect_uri": "https://llmoin.hamburg.de/callback"})
    assert "redirect_uri" in refused
    # state and nonce may be left out, but one too long is refused, not dropped.
    browser("GET", authorize, "/dev-idp/hamburg/authorize", 200,
            params={**query, "state": "s" * 511, "nonce": "n" * 511})
    _, refused = browser("GET", authorize, "/dev-idp/hamburg/authorize", 400,
                         params={**query, "state": "s" * 512})
    assert "511" in refused
    _, refused = browser("POST", authorize, "/dev-idp/hamburg/authorize", 400,
                         form={**query, "username": "erika", "nonce": "n" * 512})
    assert "511" in refused
    _, refused = browser("POST", authorize, "/dev-idp/hamburg/authorize", 400,
                         form={**query, "username": "erika mustermann"})
    assert "Benutzername" in refused
    redirect, _ = browser("POST", authorize, "/dev-idp/hamburg/authorize", 302,
                          form={**query, "username": "erika", "groups": "referat-1, it"})
    location = redirect.headers["Location"]
    assert location.startswith(query["redirect_uri"] + "&code=")
    returned = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    assert returned["state"] == [query["state"]] and returned["from"] == ["openapi"]
    grant = {"grant_type": "authorization_code", "code": returned["code"][0],
             "redirect_uri": query["redirect_uri"], "client_id": query["client_id"],
             "code_verifier": verifier}
    _, tokens = browser("POST", "/dev-idp/{slug}/token", "/dev-idp/hamburg/token", 200,
                        form=grant)
    access, identity = jwt_claims(tokens["access_token"]), jwt_claims(tokens["id_token"])
    assert (access["iss"], access["aud"], access["sub"]) == (issuer, "llmoin", "erika")
    assert access["groups"] == ["referat-1", "it"] and "nonce" not in access
    assert (identity["aud"], identity["nonce"]) == (query["client_id"], query["nonce"])
    _, again = browser("POST", "/dev-idp/{slug}/token", "/dev-idp/hamburg/token", 400,
                       form=grant)
    assert again["error"] == "invalid_grant", "a code works once"

    # Issuers: keys inline (the provider's, as a JWKS file would hold them)
    # and by URL (fetched by tenantd in the background).
    inline = api("POST", "/admin/v1/tenants/{slug}/issuers", issuers, {
        "issuer": "https://login.hamburg.de/realms/llmoin", "audience": "llmoin",
        "jwks": jwks, "user_claim": "preferred_username", "groups_claim": "groups",
        "leeway_seconds": 30}, status=201)
    assert (inline["keys"], inline["jwks_uri"], inline["leeway_seconds"]) == (1, None, 30)
    fetched = api("POST", "/admin/v1/tenants/{slug}/issuers", issuers, {
        "issuer": "http://127.0.0.1/openapi-probe", "audience": "llmoin",
        "jwks_uri": issuer + "/jwks", "groups_claim": None}, status=201)
    assert (fetched["user_claim"], fetched["groups_claim"], fetched["leeway_seconds"]) == (
        "sub", None, 60)
    wait_until(lambda: [i for i in call(stack, "GET", issuers)[1]["data"]
                        if i["id"] == fetched["id"] and i["jwks_fetched_at"]],
               timeout=10, what="tenantd fetching the JWKS")
    trusted = api("GET", "/admin/v1/tenants/{slug}/issuers", issuers)["data"]
    assert [i["issuer"] for i in trusted] == [issuer, inline["issuer"], fetched["issuer"]]
    removed = api("DELETE", "/admin/v1/issuers/{issuer_id}", f"/admin/v1/issuers/{inline['id']}")
    assert removed == inline, "the answer is the issuer as it was"
    removed = api("DELETE", "/admin/v1/issuers/{issuer_id}", f"/admin/v1/issuers/{fetched['id']}")
    assert removed["id"] == fetched["id"] and removed["jwks_fetched_at"] is not None

    off = api("DELETE", "/admin/v1/tenants/{slug}/dev-idp", "/admin/v1/tenants/hamburg/dev-idp")
    assert off == {"tenant": "hamburg", "dev_idp": False}
    assert issuer not in [i["issuer"] for i in call(stack, "GET", issuers)[1]["data"]]
    browser("GET", "/dev-idp/{slug}/jwks", "/dev-idp/hamburg/jwks", 404)

    # Usage with rows: a tenant whose user sent one request through the gateway.
    _, secret = stack.onboard("sachsen-anhalt", user="erika")
    assert stack.chat(secret, "Guten Tag").status_code == 200
    usage = "/admin/v1/tenants/sachsen-anhalt/usage"
    wait_until(lambda: call(stack, "GET", usage)[1]["rows"], timeout=10,
               what="the request in the usage report")
    for by in ("day", "month", "user", "group", "model", "function"):
        report = api("GET", "/admin/v1/tenants/{slug}/usage", f"{usage}?by={by}")
        assert report["by"] == by and report["totals"]["requests"] == 1, report
    month = stack.sql("SELECT to_char(now() AT TIME ZONE 'Europe/Berlin', 'YYYY-MM')")[0][0]
    monthly = api("GET", "/admin/v1/reports/monthly", f"/admin/v1/reports/monthly?month={month}")
    assert [t["tenant"] for t in monthly["tenants"] if t["requests"]] == ["sachsen-anhalt"]
    assert monthly["totals"]["requests"] == 1 and len(monthly["models"]) == 1
    assert api("GET", "/admin/v1/tenants/{slug}/usage",
               "/admin/v1/tenants/hamburg/usage?from=2026-11-01&to=2026-11-29")["rows"] == []
    wait_until(lambda: call(stack, "GET", "/admin/v1/tenants/sachsen-anhalt/keys")[1][
        "data"][0]["last_used_at"], timeout=10, what="last_used_at of the key")
    api("GET", "/admin/v1/tenants/{slug}/keys", "/admin/v1/tenants/sachsen-anhalt/keys")

    # The audit log of all that: a page, the next one, one tenant's, the check.
    page = api("GET", "/admin/v1/audit", "/admin/v1/audit?limit=2")
    assert len(page["data"]) == 2 and page["next_before"] == page["data"][1]["seq"]
    older = api("GET", "/admin/v1/audit", f"/admin/v1/audit?limit=2&before={page['next_before']}")
    assert older["data"][0]["seq"] == page["next_before"] - 1
    platform = api("GET", "/admin/v1/audit", "/admin/v1/audit?tenant=hamburg&limit=1000")
    hamburg = api("GET", "/admin/v1/tenants/{slug}/audit", "/admin/v1/tenants/hamburg/audit?limit=1000")
    assert hamburg == platform and hamburg["next_before"] is None
    assert {row["tenant"] for row in hamburg["data"]} == {"hamburg"}
    verdict = api("GET", "/admin/v1/audit/verify")
    assert verdict["ok"] is True and verdict["head"] == page["data"][0]["hash"], verdict

    # A tenant from one document (applied again: nothing changes), a dry run
    # of a change; then the tenant with usage above is offboarded.
    document = {"slug": "rheinland-pfalz", "name": "Land Rheinland-Pfalz",
                "hosts": ["llmoin.rheinland-pfalz.de"], "settings": {"max_tokens_cap": 2048},
                "issuers": [{"issuer": "https://sso.rheinland-pfalz.de/realms/landesverwaltung",
                             "audience": "llmoin", "jwks": jwks,
                             "user_claim": "preferred_username"}],
                "models": [{"alias": model["alias"]}],
                "limits": [{"scope": "tenant", "rpm": 3000}, {"scope": "user", "rpm": 30}]}
    applied = api("POST", "/admin/v1/apply", body=document)
    assert (applied["created"], applied["changes"][0]["action"]) == (True, "tenant.create")
    assert api("POST", "/admin/v1/apply", body=document)["changes"] == []
    document["limits"][1]["rpm"] = 60
    planned = api("POST", "/admin/v1/apply", "/admin/v1/apply?dry_run=true", document)
    assert planned["dry_run"] is True and planned["changes"] == [
        {"action": "tenant.limit.set", "object": "limit user:default", "field": "rpm",
         "before": 30, "after": 60}]
    assert api("POST", "/admin/v1/apply", "/admin/v1/apply?dry_run=true", document) == planned
    gone = api("POST", "/admin/v1/tenants/{slug}/offboard",
               "/admin/v1/tenants/sachsen-anhalt/offboard", {"confirm": "sachsen-anhalt"})
    assert gone["tenant"] == "sachsen-anhalt"
    assert (gone["deleted"]["api_keys"], gone["deleted"]["usage_events"]) == (1, 1)
    assert call(stack, "GET", "/admin/v1/tenants/sachsen-anhalt")[0] == 404

    assert called == tenantd_routes(), "every route is called above"


@pytest.fixture(scope="module")
def bremen(stack):
    """bremen-finanzen, a plain tenant the errors are provoked at, and
    bremerhaven, a development tenant holding a host name and an issuer of
    its own that bremen-finanzen cannot take; one of them is the issuer URL
    bremen-finanzen's development identity provider would have."""
    for slug, name in (("bremen-finanzen", "Bremen – Senatorin für Finanzen"),
                       ("bremerhaven", "Bremerhaven")):
        status, answer = call(stack, "POST", "/admin/v1/tenants", {"slug": slug, "name": name})
        assert status == 201, answer
    status, answer = call(stack, "PATCH", "/admin/v1/tenants/bremerhaven",
                          {"hosts": ["llmoin.bremerhaven.de"]})
    assert status == 200, answer
    status, answer = call(stack, "POST", "/admin/v1/tenants/bremerhaven/dev-idp")
    assert status == 200, answer
    own_issuer = answer["issuer"]
    status, jwks = call(stack, "GET", "/dev-idp/bremerhaven/jwks")
    assert status == 200, jwks
    for issuer in ("https://login.bremerhaven.de/realms/llmoin",
                   own_issuer.removesuffix("/bremerhaven") + "/bremen-finanzen"):
        status, answer = call(stack, "POST", "/admin/v1/tenants/bremerhaven/issuers", {
            "issuer": issuer, "audience": "llmoin", "jwks": jwks})
        assert status == 201, answer
    return "bremen-finanzen"


TENANT = ("GET", "/admin/v1/tenants/{slug}")
PATCH = ("PATCH", "/admin/v1/tenants/{slug}")
KEYS = ("POST", "/admin/v1/tenants/{slug}/keys")
ISSUERS = ("POST", "/admin/v1/tenants/{slug}/issuers")
ALLOW = ("POST", "/admin/v1/tenants/{slug}/models")
DISALLOW = ("DELETE", "/admin/v1/tenants/{slug}/models")
LIMITS = ("GET", "/admin/v1/tenants/{slug}/limits")
SET_LIMITS = ("PUT", "/admin/v1/tenants/{slug}/limits")
CLEAR_LIMITS = ("DELETE", "/admin/v1/tenants/{slug}/limits")
DEV_IDP = ("POST", "/admin/v1/tenants/{slug}/dev-idp")
DEV_TOKEN = ("POST", "/admin/v1/tenants/{slug}/dev-token")
MONTHLY = ("GET", "/admin/v1/reports/monthly")
AUDIT = ("GET", "/admin/v1/audit")
TENANT_AUDIT = ("GET", "/admin/v1/tenants/{slug}/audit")
SIGN_IN = ("POST", "/dev-idp/{slug}/authorize")
TOKEN = ("POST", "/dev-idp/{slug}/token")
APPLY = ("POST", "/admin/v1/apply")
OFFBOARD = ("POST", "/admin/v1/tenants/{slug}/offboard")
BREMEN_FINANZEN = {"slug": "bremen-finanzen", "name": "Bremen – Senatorin für Finanzen"}
A_SIGNING_KEY = {"keys": [{"kty": "oct", "k": "c2VjcmV0", "alg": "HS256"}]}
AN_ISSUER = {"issuer": "https://idp.bremen.de/realms/llmoin", "audience": "llmoin",
             "jwks_uri": "https://idp.bremen.de/realms/llmoin/certs"}

# (method, path, body, status, code, documented at (method, template) or None
# for errors explained in info.description)
ERRORS = [
    ("POST", "/admin/v1/tenants", {"slug": "koeln", "name": "Köln", "land": "NRW"},
     400, "invalid_body", ("POST", "/admin/v1/tenants")),
    ("POST", "/admin/v1/tenants", {"slug": "Köln", "name": "Köln"},
     400, "invalid_body", ("POST", "/admin/v1/tenants")),
    ("POST", "/admin/v1/tenants", {"slug": "koeln", "name": "K\u00f6ln\n"},
     400, "invalid_body", ("POST", "/admin/v1/tenants")),
    ("POST", "/admin/v1/tenants", b"{\"slug\": ", 400, "invalid_body",
     ("POST", "/admin/v1/tenants")),
    ("POST", "/admin/v1/tenants", {"slug": "bremen-finanzen", "name": "Bremen"},
     409, "tenant_exists", ("POST", "/admin/v1/tenants")),
    ("POST", "/admin/v1/tenants", b" " * (1048576 + 1), 413, "body_too_large",
     ("POST", "/admin/v1/tenants")),
    ("GET", "/admin/v1/tenants/nirgendwo", None, 404, "tenant_not_found", TENANT),
    ("PATCH", "/admin/v1/tenants/bremen-finanzen", {}, 400, "invalid_body", PATCH),
    ("PATCH", "/admin/v1/tenants/bremen-finanzen", {"hosts": ["LLMOIN.bremen.de"]},
     400, "invalid_body", PATCH),
    ("PATCH", "/admin/v1/tenants/bremen-finanzen", {"hosts": ["a" * 254]},
     400, "invalid_body", PATCH),
    ("PATCH", "/admin/v1/tenants/bremen-finanzen",
     {"hosts": [f"llmoin{i}.bremen.de" for i in range(17)]}, 400, "invalid_body", PATCH),
    ("PATCH", "/admin/v1/tenants/bremen-finanzen", {"hosts": "llmoin.bremen.de"},
     400, "invalid_body", PATCH),
    ("PATCH", "/admin/v1/tenants/bremen-finanzen", {"hosts": None}, 400, "invalid_body", PATCH),
    ("PATCH", "/admin/v1/tenants/bremen-finanzen", {"models_restricted": "yes"},
     400, "invalid_body", PATCH),
    ("PATCH", "/admin/v1/tenants/bremen-finanzen", {"status": "active"},
     400, "invalid_body", PATCH),
    ("PATCH", "/admin/v1/tenants/bremen-finanzen", {"max_tokens_cap": 0}, 400, "invalid_body",
     PATCH),
    ("PATCH", "/admin/v1/tenants/bremen-finanzen", {"max_tokens_cap": 1000001},
     400, "invalid_body", PATCH),
    ("PATCH", "/admin/v1/tenants/bremen-finanzen", {"max_tokens_cap": "4096"},
     400, "invalid_body", PATCH),
    ("PATCH", "/admin/v1/tenants/bremen-finanzen", {"quota_fail_mode": "ajar"},
     400, "invalid_body", PATCH),
    ("PATCH", "/admin/v1/tenants/bremen-finanzen", {"quota_fail_mode": None},
     400, "invalid_body", PATCH),
    ("PATCH", "/admin/v1/tenants/Nicht_Gueltig", {"name": "Nirgendwo"},
     400, "invalid_parameter", PATCH),
    ("PATCH", "/admin/v1/tenants/nirgendwo", {"name": "Nirgendwo"},
     404, "tenant_not_found", PATCH),
    ("PATCH", "/admin/v1/tenants/bremen-finanzen", {"hosts": ["llmoin.bremerhaven.de"]},
     409, "host_taken", PATCH),
    ("PATCH", "/admin/v1/tenants/bremen-finanzen", b" " * (1048576 + 1),
     413, "body_too_large", PATCH),
    ("POST", "/admin/v1/tenants/nirgendwo/suspend", None, 404, "tenant_not_found",
     ("POST", "/admin/v1/tenants/{slug}/suspend")),
    ("POST", "/admin/v1/tenants/nirgendwo/resume", None, 404, "tenant_not_found",
     ("POST", "/admin/v1/tenants/{slug}/resume")),
    ("GET", "/admin/v1/tenants/nirgendwo/keys", None, 404, "tenant_not_found",
     ("GET", "/admin/v1/tenants/{slug}/keys")),
    ("POST", "/admin/v1/tenants/nirgendwo/keys", {"user": "alice"}, 404, "tenant_not_found",
     KEYS),
    ("POST", "/admin/v1/tenants/Nicht_Gueltig/keys", {"user": "alice"},
     400, "invalid_parameter", KEYS),
    ("POST", "/admin/v1/tenants/bremen-finanzen/keys", {"user": "alice", "expires": None},
     400, "invalid_body", KEYS),
    ("POST", "/admin/v1/tenants/bremen-finanzen/keys", {"user": "alice smith"},
     400, "invalid_body", KEYS),
    ("POST", "/admin/v1/tenants/bremen-finanzen/keys", {"user": "alice", "expires_at": "2020-01-01"},
     400, "invalid_body", KEYS),
    ("POST", "/admin/v1/tenants/bremen-finanzen/keys", {"user": "alice", "expires_at": "2027-02-30"},
     400, "invalid_body", KEYS),
    ("POST", "/admin/v1/tenants/bremen-finanzen/keys", {"user": "alice", "expires_at": "morgen"},
     400, "invalid_body", KEYS),
    ("POST", "/admin/v1/tenants/bremen-finanzen/keys", {"user": "alice", "models": ["nirgendwo-1"]},
     400, "invalid_body", KEYS),
    ("POST", "/admin/v1/tenants/bremen-finanzen/keys",
     {"user": "alice", "models": [SIM_MODEL] * 65}, 400, "invalid_body", KEYS),
    ("POST", "/admin/v1/tenants/bremen-finanzen/keys", {"user": "alice", "models": [7]},
     400, "invalid_body", KEYS),
    ("POST", "/admin/v1/tenants/bremen-finanzen/keys", {"user": "alice", "models": ["a b"]},
     400, "invalid_body", KEYS),
    ("POST", "/admin/v1/keys/key_0000000000000000/revoke", None, 404, "key_not_found",
     ("POST", "/admin/v1/keys/{key_id}/revoke")),
    ("GET", "/admin/v1/tenants/nirgendwo/issuers", None, 404, "tenant_not_found",
     ("GET", "/admin/v1/tenants/{slug}/issuers")),
    ("POST", "/admin/v1/tenants/nirgendwo/issuers", AN_ISSUER, 404, "tenant_not_found", ISSUERS),
    ("POST", "/admin/v1/tenants/Nicht_Gueltig/issuers", AN_ISSUER,
     400, "invalid_parameter", ISSUERS),
    ("POST", "/admin/v1/tenants/bremen-finanzen/issuers",
     {**AN_ISSUER, "issuer": "http://idp.bremen.de/realms/llmoin"}, 400, "invalid_body", ISSUERS),
    ("POST", "/admin/v1/tenants/bremen-finanzen/issuers",
     {"issuer": AN_ISSUER["issuer"], "audience": "llmoin"}, 400, "invalid_body", ISSUERS),
    ("POST", "/admin/v1/tenants/bremen-finanzen/issuers", {**AN_ISSUER, "jwks": A_SIGNING_KEY},
     400, "invalid_body", ISSUERS),
    ("POST", "/admin/v1/tenants/bremen-finanzen/issuers",
     {**AN_ISSUER, "jwks_uri": None, "jwks": A_SIGNING_KEY}, 400, "invalid_body", ISSUERS),
    ("POST", "/admin/v1/tenants/bremen-finanzen/issuers", {**AN_ISSUER, "leeway_seconds": 601},
     400, "invalid_body", ISSUERS),
    ("POST", "/admin/v1/tenants/bremen-finanzen/issuers", {**AN_ISSUER, "user_claim": "e-mail!"},
     400, "invalid_body", ISSUERS),
    ("POST", "/admin/v1/tenants/bremen-finanzen/issuers",
     {**AN_ISSUER, "issuer": "https://login.bremerhaven.de/realms/llmoin"},
     409, "issuer_taken", ISSUERS),
    ("DELETE", "/admin/v1/issuers/999999", None, 404, "issuer_not_found",
     ("DELETE", "/admin/v1/issuers/{issuer_id}")),
    ("DELETE", "/admin/v1/issuers/0", None, 400, "invalid_parameter",
     ("DELETE", "/admin/v1/issuers/{issuer_id}")),
    ("DELETE", "/admin/v1/issuers/1e3", None, 400, "invalid_parameter",
     ("DELETE", "/admin/v1/issuers/{issuer_id}")),
    ("GET", "/admin/v1/tenants/nirgendwo/models", None, 404, "tenant_not_found",
     ("GET", "/admin/v1/tenants/{slug}/models")),
    ("POST", "/admin/v1/tenants/bremen-finanzen/models", {"pool": "default"},
     400, "invalid_body", ALLOW),
    ("POST", "/admin/v1/tenants/bremen-finanzen/models", {"alias": "nirgendwo-1"},
     400, "model_not_found", ALLOW),
    ("POST", "/admin/v1/tenants/bremen-finanzen/models", {"alias": SIM_MODEL, "pool": "gpu_bremen"},
     400, "model_or_pool_not_found", ALLOW),
    ("POST", "/admin/v1/tenants/nirgendwo/models", {"alias": SIM_MODEL},
     404, "tenant_not_found", ALLOW),
    ("POST", "/admin/v1/tenants/Nicht_Gueltig/models", {"alias": SIM_MODEL},
     400, "invalid_parameter", ALLOW),
    ("DELETE", "/admin/v1/tenants/bremen-finanzen/models", None, 400, "invalid_parameter",
     DISALLOW),
    ("DELETE", "/admin/v1/tenants/bremen-finanzen/models?alias=", None, 400,
     "invalid_parameter", DISALLOW),
    ("DELETE", "/admin/v1/tenants/bremen-finanzen/models?alias=nirgendwo-1", None, 404,
     "model_not_allowed", DISALLOW),
    ("DELETE", "/admin/v1/tenants/nirgendwo/models?alias=nirgendwo-1", None, 404,
     "tenant_not_found", DISALLOW),
    ("GET", "/admin/v1/tenants/nirgendwo/limits", None, 404, "tenant_not_found", LIMITS),
    ("GET", "/admin/v1/tenants/Nicht_Gueltig/limits", None, 400, "invalid_parameter", LIMITS),
    ("PUT", "/admin/v1/tenants/bremen-finanzen/limits", {"scope": "tenant", "subject": "x",
                                                         "rpm": 1}, 400, "invalid_body",
     SET_LIMITS),
    ("PUT", "/admin/v1/tenants/bremen-finanzen/limits", {"scope": "user", "subject": "alice",
                                                         "rpm": -1}, 400, "invalid_body",
     SET_LIMITS),
    ("PUT", "/admin/v1/tenants/bremen-finanzen/limits", {"scope": "user", "subject": "alice",
                                                         "concurrent": 2**31}, 400,
     "invalid_body", SET_LIMITS),
    ("PUT", "/admin/v1/tenants/bremen-finanzen/limits", {"scope": "user", "subject": "alice",
                                                         "tpm": 1.5}, 400, "invalid_body",
     SET_LIMITS),
    ("PUT", "/admin/v1/tenants/bremen-finanzen/limits", {"scope": "user", "subject": "alice"},
     400, "invalid_body", SET_LIMITS),
    ("PUT", "/admin/v1/tenants/bremen-finanzen/limits", {"scope": "user", "rpm": 1},
     400, "invalid_body", SET_LIMITS),
    ("PUT", "/admin/v1/tenants/bremen-finanzen/limits", {"scope": "team", "subject": "a",
                                                         "rpm": 1}, 400, "invalid_body",
     SET_LIMITS),
    ("PUT", "/admin/v1/tenants/bremen-finanzen/limits", {"scope": "group", "subject": "a,b",
                                                         "rpm": 1}, 400, "invalid_body",
     SET_LIMITS),
    ("PUT", "/admin/v1/tenants/bremen-finanzen/limits", {"scope": "key", "subject": "bob",
                                                         "rpm": 1}, 400, "invalid_body",
     SET_LIMITS),
    ("PUT", "/admin/v1/tenants/bremen-finanzen/limits", {"scope": "user", "subject": "ü" * 128,
                                                         "rpm": 1}, 400, "invalid_body",
     SET_LIMITS),
    ("PUT", "/admin/v1/tenants/bremen-finanzen/limits", {"scope": "user", "subject": "a\tb",
                                                         "rpm": 1}, 400, "invalid_body",
     SET_LIMITS),
    ("PUT", "/admin/v1/tenants/bremen-finanzen/limits", {"scope": "key",
                                                         "subject": "key_0000000000000000",
                                                         "rpm": 1}, 404, "key_not_found",
     SET_LIMITS),
    ("PUT", "/admin/v1/tenants/nirgendwo/limits", {"scope": "tenant", "subject": "", "rpm": 1},
     404, "tenant_not_found", SET_LIMITS),
    ("PUT", "/admin/v1/tenants/Nicht_Gueltig/limits", {"scope": "tenant", "subject": "",
                                                       "rpm": 1}, 400, "invalid_parameter",
     SET_LIMITS),
    ("PUT", "/admin/v1/tenants/bremen-finanzen/limits", b" " * (1048576 + 1),
     413, "body_too_large", SET_LIMITS),
    ("DELETE", "/admin/v1/tenants/bremen-finanzen/limits", None, 400, "invalid_parameter",
     CLEAR_LIMITS),
    ("DELETE", "/admin/v1/tenants/bremen-finanzen/limits?scope=users", None, 400,
     "invalid_parameter", CLEAR_LIMITS),
    ("DELETE", "/admin/v1/tenants/bremen-finanzen/limits?scope=tenant&subject=x", None, 400,
     "invalid_parameter", CLEAR_LIMITS),
    ("DELETE", "/admin/v1/tenants/bremen-finanzen/limits?scope=key&subject=bob", None, 400,
     "invalid_parameter", CLEAR_LIMITS),
    ("DELETE", "/admin/v1/tenants/bremen-finanzen/limits?scope=user&subject=bob", None, 404,
     "limit_not_found", CLEAR_LIMITS),
    ("DELETE", "/admin/v1/tenants/bremen-finanzen/limits?scope=tenant", None, 404,
     "limit_not_found", CLEAR_LIMITS),
    ("DELETE", "/admin/v1/tenants/nirgendwo/limits?scope=tenant", None, 404,
     "tenant_not_found", CLEAR_LIMITS),
    ("POST", "/admin/v1/models", {"alias": "llama-3.1-8b"}, 400, "invalid_body",
     ("POST", "/admin/v1/models")),
    ("PUT", "/admin/v1/pools/gpu_bremen", {}, 400, "invalid_body", ("PUT", "/admin/v1/pools/{pool}")),
    ("DELETE", "/admin/v1/pools/GPU", None, 400, "invalid_parameter",
     ("DELETE", "/admin/v1/pools/{pool}")),
    ("POST", "/admin/v1/models", {"alias": "llama-3.1-8b", "pool": "gpu_bremen"},
     400, "pool_not_found", ("POST", "/admin/v1/models")),
    ("GET", "/admin/v1/tenants/nirgendwo/usage", None, 404, "tenant_not_found",
     ("GET", "/admin/v1/tenants/{slug}/usage")),
    ("GET", "/admin/v1/tenants/bremen-finanzen/usage?by=week", None, 400,
     "invalid_parameter", ("GET", "/admin/v1/tenants/{slug}/usage")),
    ("GET", "/admin/v1/tenants/bremen-finanzen/usage?from=2026-02-29", None, 400,
     "invalid_parameter", ("GET", "/admin/v1/tenants/{slug}/usage")),
    ("GET", "/admin/v1/tenants/bremen-finanzen/usage?from=2026-12-01&to=2026-11-30",
     None, 400, "invalid_parameter", ("GET", "/admin/v1/tenants/{slug}/usage")),
    ("GET", "/admin/v1/tenants/bremen-finanzen/usage?by=function&to=2026-13-01", None, 400,
     "invalid_parameter", ("GET", "/admin/v1/tenants/{slug}/usage")),
    ("GET", "/admin/v1/reports/monthly", None, 400, "invalid_parameter", MONTHLY),
    ("GET", "/admin/v1/reports/monthly?month=2026-13", None, 400, "invalid_parameter", MONTHLY),
    ("POST", "/admin/v1/tenants/nirgendwo/dev-idp", None, 404, "tenant_not_found", DEV_IDP),
    ("POST", "/admin/v1/tenants/Nicht_Gueltig/dev-idp", None, 400, "invalid_parameter",
     DEV_IDP),
    ("POST", "/admin/v1/tenants/bremen-finanzen/dev-idp", None, 409, "issuer_taken", DEV_IDP),
    ("DELETE", "/admin/v1/tenants/nirgendwo/dev-idp", None, 404, "tenant_not_found",
     ("DELETE", "/admin/v1/tenants/{slug}/dev-idp")),
    ("POST", "/admin/v1/tenants/bremen-finanzen/dev-token", {"user": "alice"},
     400, "not_a_dev_tenant", DEV_TOKEN),
    ("POST", "/admin/v1/tenants/nirgendwo/dev-token", {"user": "alice"},
     404, "tenant_not_found", DEV_TOKEN),
    ("POST", "/admin/v1/tenants/nirgendwo/dev-token", {"user": "alice smith"},
     404, "tenant_not_found", DEV_TOKEN),
    ("POST", "/admin/v1/tenants/Nicht_Gueltig/dev-token", {"user": "alice"},
     400, "invalid_parameter", DEV_TOKEN),
    ("POST", "/admin/v1/tenants/bremerhaven/dev-token", {"user": "alice", "ttl_seconds": 59},
     400, "invalid_body", DEV_TOKEN),
    ("POST", "/admin/v1/tenants/bremerhaven/dev-token", {"user": "alice", "ttl_seconds": 604801},
     400, "invalid_body", DEV_TOKEN),
    ("POST", "/admin/v1/tenants/bremerhaven/dev-token", {"user": "alice smith"},
     400, "invalid_body", DEV_TOKEN),
    ("POST", "/admin/v1/tenants/bremerhaven/dev-token", {"user": "alice", "groups": ["a,b"]},
     400, "invalid_body", DEV_TOKEN),
    ("POST", "/admin/v1/tenants/bremerhaven/dev-token", {"user": "alice", "groups": ["g"] * 33},
     400, "invalid_body", DEV_TOKEN),
    ("GET", "/dev-idp/bremen-finanzen/.well-known/openid-configuration", None, 404, "not_found",
     ("GET", "/dev-idp/{slug}/.well-known/openid-configuration")),
    ("GET", "/dev-idp/Nicht_Gueltig/.well-known/openid-configuration", None, 400,
     "invalid_parameter", ("GET", "/dev-idp/{slug}/.well-known/openid-configuration")),
    ("GET", "/dev-idp/nirgendwo/jwks", None, 404, "not_found", ("GET", "/dev-idp/{slug}/jwks")),
    ("GET", "/dev-idp/Nicht_Gueltig/jwks", None, 400, "invalid_parameter",
     ("GET", "/dev-idp/{slug}/jwks")),
    ("GET", "/dev-idp/bremen-finanzen/authorize?response_type=code", None, 404, "not_found",
     ("GET", "/dev-idp/{slug}/authorize")),
    ("GET", "/dev-idp/Nicht_Gueltig/authorize?response_type=code", None, 400,
     "invalid_parameter", ("GET", "/dev-idp/{slug}/authorize")),
    ("POST", "/dev-idp/bremen-finanzen/authorize", b"username=alice", 404, "not_found", SIGN_IN),
    ("POST", "/dev-idp/Nicht_Gueltig/authorize", b"username=alice", 400, "invalid_parameter",
     SIGN_IN),
    ("POST", "/dev-idp/bremerhaven/authorize", b" " * (1048576 + 1), 413, "body_too_large",
     SIGN_IN),
    ("POST", "/dev-idp/bremen-finanzen/token", b"grant_type=authorization_code", 404,
     "not_found", TOKEN),
    ("POST", "/dev-idp/Nicht_Gueltig/token", b"grant_type=authorization_code", 400,
     "invalid_parameter", TOKEN),
    ("DELETE", "/admin/v1/tenants/bremen-finanzen", None, 405, "method_not_allowed", None),
    ("GET", "/admin/v1/tenants/bremen-finanzen/suspend", None, 405, "method_not_allowed",
     None),
    ("GET", "/dev-idp/bremerhaven/token", None, 405, "method_not_allowed", None),
    ("GET", "/admin/v1/nirgendwo", None, 404, "not_found", None),
    ("GET", "/admin/v1/tenants/Nicht_Gueltig", None, 400, "invalid_parameter", TENANT),
    ("GET", "/admin/v1/audit?limit=0", None, 400, "invalid_parameter", AUDIT),
    ("GET", "/admin/v1/audit?before=-1", None, 400, "invalid_parameter", AUDIT),
    ("GET", "/admin/v1/audit?tenant=Bremen", None, 400, "invalid_parameter", AUDIT),
    ("GET", "/admin/v1/tenants/bremen-finanzen/audit?limit=1001", None, 400,
     "invalid_parameter", TENANT_AUDIT),
    ("GET", "/admin/v1/tenants/nirgendwo/audit", None, 404, "tenant_not_found", TENANT_AUDIT),
    ("POST", "/admin/v1/keys/lmk_secret/revoke", None, 400, "invalid_parameter",
     ("POST", "/admin/v1/keys/{key_id}/revoke")),
    ("POST", "/admin/v1/apply", {**BREMEN_FINANZEN, "owner": "Senatorin"}, 400, "invalid_body",
     APPLY),
    ("POST", "/admin/v1/apply", {**BREMEN_FINANZEN, "issuers": [{"issuer": "https://a.de"}]},
     400, "invalid_body", APPLY),
    ("POST", "/admin/v1/apply", b"[]", 400, "invalid_body", APPLY),
    ("POST", "/admin/v1/apply?dry_run=vielleicht", BREMEN_FINANZEN, 400, "invalid_parameter",
     APPLY),
    ("POST", "/admin/v1/apply", {**BREMEN_FINANZEN, "models": [{"alias": "llama-4-400b"}]},
     400, "model_not_found", APPLY),
    ("POST", "/admin/v1/apply", {**BREMEN_FINANZEN, "limits": [
        {"scope": "key", "subject": "key_0000000000000000", "rpm": 1}]}, 404, "key_not_found",
     APPLY),
    ("POST", "/admin/v1/apply", {**BREMEN_FINANZEN, "hosts": ["llmoin.bremerhaven.de"]}, 409,
     "host_taken", APPLY),
    ("POST", "/admin/v1/apply", {**BREMEN_FINANZEN, "issuers": [
        {**AN_ISSUER, "issuer": "https://login.bremerhaven.de/realms/llmoin"}]}, 409,
     "issuer_taken", APPLY),
    ("POST", "/admin/v1/apply", b" " * (1048576 + 1), 413, "body_too_large", APPLY),
    ("POST", "/admin/v1/tenants/bremen-finanzen/offboard", {}, 400, "confirmation_required",
     OFFBOARD),
    ("POST", "/admin/v1/tenants/bremen-finanzen/offboard", {"confirm": "bremerhaven"}, 400,
     "confirmation_required", OFFBOARD),
    ("POST", "/admin/v1/tenants/bremen-finanzen/offboard", {"confirm": 1}, 400, "invalid_body",
     OFFBOARD),
    ("POST", "/admin/v1/tenants/nirgendwo/offboard", {"confirm": "nirgendwo"}, 404,
     "tenant_not_found", OFFBOARD),
    ("POST", "/admin/v1/tenants/Nicht_Gueltig/offboard", {"confirm": "Nicht_Gueltig"}, 400,
     "invalid_parameter", OFFBOARD),
]

# Errors this module provokes in tests of their own.
PROVOKED_ELSEWHERE = {
    (401, "token_required"): "test_tcp_listener_needs_a_token",
    (404, "pool_not_found"): "test_every_route_answers_as_documented",
    (409, "pool_in_use"): "test_every_route_answers_as_documented",
    (401, "invalid_token"): "test_tcp_listener_needs_a_token",
    (503, "database_unavailable"): "test_database_down_is_documented",
    (409, "conflict"): "test_a_race_for_a_host_name_is_a_conflict",
    (503, "quota_store_unavailable"): "test_offboarding_without_the_quota_store_is_documented",
}
# Errors the stack cannot be made to answer, and why. Their examples are
# checked against the Error schema like every other.
NOT_PROVOKED = {
    (403, "not_an_operator"): "whoever runs the tests is root or tenantd's own user, "
                              "an operator on the socket; a provider token without "
                              "the role: test_tenant_isolation.py",
    (403, "not_a_tenant_admin"): "needs tenant issuers and HTTPS: test_tenant_isolation.py",
    (403, "operators_only"): "needs a tenant admin over HTTPS: test_tenant_isolation.py",
    (403, "tenant_suspended"): "needs a tenant admin over HTTPS: test_tenant_isolation.py",
    (403, "issuer_reserved"): "needs the operator issuer or a tenant admin: "
                              "test_tenant_isolation.py",
    (409, "issuer_limit"): "needs ten issuers first: test_tenant_isolation.py",
    (400, "dev_idp_off"): "the stack runs tenantd with dev_idp = true",
    (500, "database_error"): "needs PostgreSQL to refuse a statement tenantd sends",
    (500, "key_generation_failed"): "needs OpenSSL's random generator to fail",
    (500, "signing_failed"): "needs OpenSSL to fail to sign",
}


def test_every_error_is_provoked_or_excused():
    provoked = {(status, code) for _, _, _, status, code, _ in ERRORS} | set(PROVOKED_ELSEWHERE)
    assert not provoked & set(NOT_PROVOKED), "provoked after all: drop it from NOT_PROVOKED"
    assert provoked | set(NOT_PROVOKED) == source_errors()


@pytest.mark.parametrize("method, path, body, status, code, documented", ERRORS,
                         ids=[f"{e[4]}-{i}" for i, e in enumerate(ERRORS)])
def test_documented_errors_are_real(stack, doc, bremen, method, path, body, status,
                                    code, documented):
    got, answer = call(stack, method, path, body)
    assert (got, answer.get("error", {}).get("code")) == (status, code), answer
    assert conform(doc, doc["components"]["schemas"]["Error"], answer) == []
    assert code in error_codes(doc)["enum"]
    if documented is None:
        assert f"{status} {code}" in doc["info"]["description"]
        return
    check_answer(doc, *documented, got, answer)
    operation = doc["paths"][documented[1]][documented[0].lower()]
    assert code in documented_codes(doc, operation, status), \
        f"{documented}: {status} {code} has no example"


def test_a_race_for_a_host_name_is_a_conflict(stack, doc):
    """tenants.c looks for the owner of a host name before it changes
    anything (409 host_taken); schema/0003_unique_hosts.sql's trigger is the
    backstop for a change committed in between, a unique violation that
    api.c answers with 409 conflict and the database's message. The test is
    that change in between: in a transaction of its own it gives kiel the
    host name, and commits once tenantd's change giving it to luebeck too
    waits at the trigger's lock, past the check in tenants.c."""
    for slug in ("kiel", "luebeck"):
        status, answer = call(stack, "POST", "/admin/v1/tenants",
                              {"slug": slug, "name": slug.title()})
        assert status == 201, answer
    host, path = "llmoin.kiel.de", "/admin/v1/tenants/luebeck"
    connection = psycopg2.connect(stack.env["LLMOIN_PG_DSN"])
    pool = concurrent.futures.ThreadPoolExecutor(1)
    try:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE tenants SET hosts = ARRAY[%s] WHERE slug = 'kiel'", (host,))
        change = pool.submit(call, stack, "PATCH", path, {"hosts": [host]})
        wait_until(lambda: change.done() or stack.sql(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")[0][0],
                   timeout=10, what="tenantd's change waiting at the trigger's lock")
        assert not change.done(), change.result()
        connection.commit()
        status, answer = change.result(timeout=30)
    finally:
        connection.rollback()
        connection.close()
        pool.shutdown(wait=True)
    assert (status, answer["error"]["code"]) == (409, "conflict"), answer
    assert answer["error"]["message"] == f"host '{host}' already belongs to tenant 'kiel'"
    check_answer(doc, *PATCH, status, answer)
    operation = doc["paths"][PATCH[1]][PATCH[0].lower()]
    assert "conflict" in documented_codes(doc, operation, 409)
    # Once kiel's host name is committed, tenants.c's own check answers.
    status, answer = call(stack, "PATCH", path, {"hosts": [host]})
    assert (status, answer["error"]["code"]) == (409, "host_taken"), answer


def test_sign_in_with_every_code_pending_is_503(stack, doc, bremen):
    """A sign-in's code waits in one of dev_idp.c's CODE_SLOTS until it is
    redeemed or 60 s are over; while every slot is taken, signing in is an
    HTML page with 503. Takes them all for a minute: nothing after this in
    the module signs in."""
    slots = int(re.search(r"^#define CODE_SLOTS\s+([0-9]+)\s*$", c_source("dev_idp.c"),
                          re.M).group(1))
    url = stack.env["LLMOIN_TENANTD_URL"] + "/dev-idp/bremerhaven/authorize"
    _, challenge = pkce_pair()
    form = {"response_type": "code", "client_id": "openapi-probe",
            "redirect_uri": "http://127.0.0.1:9/callback", "code_challenge": challenge,
            "code_challenge_method": "S256", "username": "erika"}
    with requests.Session() as session:
        for signed_in in range(slots + 1):
            response = session.post(url, data=form, allow_redirects=False, timeout=10)
            if response.status_code != 302:
                break
    assert response.status_code == 503, response.text
    assert 0 < signed_in <= slots, signed_in
    page = check_response(doc, *SIGN_IN, response)
    assert "Zu viele Anmeldungen" in page


def test_tcp_listener_needs_a_token(stack, doc):
    url = stack.env["LLMOIN_TENANTD_URL"]
    for headers, code in (({}, "token_required"),
                          ({"Authorization": "Bearer " + "x" * 40}, "invalid_token"),
                          ({"Authorization": "Basic b3A6b3A="}, "invalid_token")):
        response = requests.get(f"{url}/admin/v1/tenants", headers=headers, timeout=10)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == code
        check_answer(doc, "GET", "/admin/v1/tenants", 401, response.json())
    # Credentials are asked for before path parameters are looked at ...
    response = requests.get(f"{url}/admin/v1/tenants/Nicht_Gueltig", timeout=10)
    assert response.status_code == 401
    check_answer(doc, "GET", "/admin/v1/tenants/{slug}", 401, response.json())
    # ... but only of a request that matched an operator endpoint.
    for method, path, status, code in (("GET", "/admin/v1/nirgendwo", 404, "not_found"),
                                       ("DELETE", "/admin/v1/tenants", 405,
                                        "method_not_allowed")):
        response = requests.request(method, f"{url}{path}", timeout=10)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code)
        assert f"{status} {code}" in doc["info"]["description"]
    health = requests.get(f"{url}/admin/v1/health", timeout=10)
    assert health.status_code == 200, "the health check needs no token"
    check_answer(doc, "GET", "/admin/v1/health", 200, health.json())


def test_offboarding_without_the_quota_store_is_documented(stack, doc, bremen):
    """Stops Redis and starts it again: bremen-finanzen is not offboarded."""
    stack.ops("stop", "redis")
    try:
        status, answer = call(stack, "POST", "/admin/v1/tenants/bremen-finanzen/offboard",
                              {"confirm": "bremen-finanzen"})
    finally:
        stack.ops("start")
    assert (status, answer["error"]["code"]) == (503, "quota_store_unavailable"), answer
    check_answer(doc, *OFFBOARD, status, answer)
    assert "quota_store_unavailable" in documented_codes(
        doc, doc["paths"][OFFBOARD[1]]["post"], 503)
    assert call(stack, "GET", "/admin/v1/tenants/bremen-finanzen")[0] == 200


def test_database_down_is_documented(stack, doc):
    """Last in this module: stops PostgreSQL and starts it again."""
    stack.ops("stop", "postgres")
    try:
        status, answer = call(stack, "GET", "/admin/v1/tenants")
        assert (status, answer["error"]["code"]) == (503, "database_unavailable"), answer
        check_answer(doc, "GET", "/admin/v1/tenants", status, answer)
        status, answer = call(stack, "GET", "/dev-idp/bremerhaven/jwks")
        assert (status, answer["error"]["code"]) == (503, "database_unavailable"), answer
        check_answer(doc, "GET", "/dev-idp/{slug}/jwks", status, answer)
        status, answer = call(stack, "GET", "/admin/v1/health")
        assert status == 503 and answer["status"] == "degraded", answer
        check_answer(doc, "GET", "/admin/v1/health", status, answer)
    finally:
        stack.ops("start")
    wait_until(lambda: call(stack, "GET", "/admin/v1/health")[0] == 200, timeout=10,
               what="tenantd back on its database")
