"""docs/openapi.yaml against the code and a running tenantd.

What is checked:
  - the document's paths and methods are exactly `tenantd --routes`, and its
    summaries are those of the route table in tenantd/api.c;
  - the request body schemas say what the handlers' field tables
    (field_spec_t in tenants.c, keys.c, models.c) say: members, required,
    nullable, maxLength, pattern;
  - every error code tenantd/*.c can answer with is in the Error schema and
    nothing else is;
  - every example in the document fits its schema;
  - against a real node (the `stack` fixture): every route is called over
    the unix socket and its answer must fit the schema documented for the
    status it answered with. Response objects are closed
    (additionalProperties: false) and list every field as required, so a
    field added to an api_*_docs view, or dropped from it, fails here;
  - the error answers the document promises are real: 400 invalid_body,
    404 tenant_not_found, 409 tenant_exists, 405, 413, 401 over TCP, 503
    with the database down.

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

import datetime
import http.client
import json
import re
import socket
import subprocess

import pytest
import requests

from llmoin_stack import BUILD, SOURCE, wait_until

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
            assert set(response["content"]) == {JSON}, f"{where} {status}"
            assert "schema" in response["content"][JSON], f"{where} {status}"
        if "requestBody" in operation:
            body = deref(doc, operation["requestBody"])
            assert body["required"] is True and set(body["content"]) == {JSON}, where
            assert {"400", "413"} <= set(operation["responses"]), where
        if path != "/admin/v1/health":
            assert {"401", "403", "503"} <= set(operation["responses"]), where
    assert len(operation_ids) == len(set(operation_ids)), "operationIds repeat"
    health = doc["paths"]["/admin/v1/health"]["get"]
    assert health["security"] == [], "the health check needs no credentials"
    parameters = doc["components"]["parameters"]
    assert parameters["Slug"]["schema"]["pattern"] == "^[a-z][a-z0-9-]{1,31}$"
    assert parameters["KeyId"]["schema"]["pattern"] == "^key_[0-9a-f]{16}$"
    assert parameters["UsageBy"]["schema"]["enum"] == ["day", "user", "model"]
    assert parameters["UsageFrom"]["schema"]["format"] == "date"
    assert parameters["UsageTo"]["schema"]["format"] == "date"


def response_schemas(doc):
    """(where, schema) of every response body the document describes."""
    for (method, path), operation in operations(doc).items():
        for status, response in operation["responses"].items():
            yield f"{method} {path} {status}", response_schema(doc, operation, status)


def response_schema(doc, operation, status):
    return deref(doc, deref(doc, operation["responses"][status])["content"][JSON]["schema"])


def object_schemas(doc, schema, where):
    """Every object schema reachable from schema (through $ref, properties, items)."""
    schema = deref(doc, schema)
    if "properties" in schema:
        yield where, schema
        for name, sub in schema["properties"].items():
            yield from object_schemas(doc, sub, f"{where}.{name}")
    if "items" in schema:
        yield from object_schemas(doc, schema["items"], f"{where}[]")


def test_response_objects_are_closed_and_complete(doc):
    """Every field of an answer is always there (null or not), and no other:
    so validating a real answer compares its field names with the document."""
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


# --- request bodies against the handlers' field tables -------------------------

# Handler source file and field table -> the operation whose body it checks.
FIELD_TABLES = {
    ("tenants.c", "create_fields"): ("POST", "/admin/v1/tenants"),
    ("keys.c", "create_fields"): ("POST", "/admin/v1/tenants/{slug}/keys"),
    ("models.c", "model_fields"): ("POST", "/admin/v1/models"),
}
# POSIX bracket classes (glibc regcomp, C locale) in ECMA-262 regex terms, longest first.
POSIX_CLASSES = [("[:cntrl:][:space:]", r"\x00-\x20\x7F"), ("[:cntrl:]", r"\x00-\x1F\x7F")]


def field_table(file_name, table):
    """[(name, type, required, nullable, max_length, pattern)] of a
    field_spec_t table, with #defined patterns resolved."""
    source = (TENANTD / file_name).read_text()
    defines = dict(re.findall(r'#define\s+(\w+)\s+("(?:[^"\\]|\\.)*")', source))
    body = re.search(r"field_spec_t\s+" + table + r"\[\]\s*=\s*\{(.*?)FIELD_SPEC_END",
                     source, re.S).group(1)
    fields = []
    for name, json_type, required, nullable, max_length, pattern in re.findall(
            r'\{\s*"(\w+)",\s*JSON_(\w+),\s*(true|false),\s*(true|false),\s*(\d+),\s*'
            r'(NULL|\w+|"(?:[^"\\]|\\.)*")', body):
        pattern = defines.get(pattern, pattern)
        pattern = None if pattern == "NULL" else json.loads(pattern)
        fields.append((name, json_type, required == "true", nullable == "true",
                       int(max_length), pattern))
    assert fields, f"{file_name}: {table} could not be read"
    return fields


def test_request_bodies_are_the_handlers_field_tables(doc):
    for (file_name, table), (method, path) in FIELD_TABLES.items():
        operation = doc["paths"][path][method.lower()]
        schema = deref(doc, deref(doc, operation["requestBody"])["content"][JSON]["schema"])
        where = f"{method} {path} body"
        fields = field_table(file_name, table)
        assert schema["type"] == "object" and schema["additionalProperties"] is False, where
        assert set(schema["properties"]) == {f[0] for f in fields}, where
        assert set(schema.get("required", [])) == {f[0] for f in fields if f[2]}, where
        for name, json_type, _, nullable, max_length, pattern in fields:
            prop = schema["properties"][name]
            types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
            assert set(types) == {json_type.lower()} | ({"null"} if nullable else set()), \
                f"{where}: {name} type"
            assert prop.get("maxLength", 0) == max_length, f"{where}: {name} maxLength"
            if pattern is not None:
                for posix, ecma in POSIX_CLASSES:
                    pattern = pattern.replace(posix, ecma)
            assert prop.get("pattern") == pattern, f"{where}: {name} pattern"
        assert "400" in operation["responses"] and "413" in operation["responses"], where


# --- error codes ---------------------------------------------------------------

def source_errors():
    """{(status, code)} tenantd/*.c can answer with."""
    found = set()
    for path in TENANTD.glob("*.c"):
        source = path.read_text()
        found |= {(int(status), code) for status, code in re.findall(
            r'api_error\(\s*\w+,\s*(\d{3}),\s*"\w+",\s*"(\w+)"', source)}
        found |= {(404, code) for code in re.findall(r'\.not_found_code\s*=\s*"(\w+)"', source)}
    assert len(found) > 5, "no api_error calls found"
    return found


def error_codes(doc):
    return doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]


def example_values(media):
    if "example" in media:
        yield "example", media["example"]
    for name, example in media.get("examples", {}).items():
        yield name, example["value"]


def documented_codes(doc, operation, status):
    """Error codes the examples of an operation's response for status show."""
    media = deref(doc, operation["responses"][str(status)])["content"][JSON]
    return {value["error"]["code"] for _, value in example_values(media)}


def test_error_codes_are_those_of_the_sources(doc):
    codes = error_codes(doc)
    assert set(codes["enum"]) == {code for _, code in source_errors()}
    for code in codes["enum"]:
        assert code in codes["description"], f"{code} not explained"
    # Each code is shown, with its status, at an operation that can answer it;
    # unknown paths and methods are explained in info.description instead.
    shown = {(int(status), code)
             for operation in operations(doc).values()
             for status, response in operation["responses"].items()
             if deref(doc, response)["content"][JSON]["schema"] == {
                 "$ref": "#/components/schemas/Error"}
             for code in documented_codes(doc, operation, status)}
    for status, code in source_errors():
        if code in ("not_found", "method_not_allowed"):
            assert f"{status} {code}" in doc["info"]["description"]
        else:
            assert (status, code) in shown, f"{status} {code} is at no operation"


# --- a validator for the part of JSON Schema the document uses -------------------

JSON_TYPES = {"null": type(None), "boolean": bool, "string": str, "array": list,
              "object": dict, "integer": int, "number": (int, float)}
ANNOTATIONS = {"description", "default", "example", "examples", "title"}


def conform(doc, schema, value, where="$"):
    """Problems of value against schema; [] when it fits. Knows $ref, type,
    enum, properties, required, additionalProperties, items, maxLength,
    pattern, format (date, date-time) and minimum; any other keyword is a
    problem, so the document cannot use what this does not check."""
    schema = deref(doc, schema)
    unknown = set(schema) - ANNOTATIONS - {
        "type", "enum", "properties", "required", "additionalProperties", "items",
        "maxLength", "pattern", "format", "minimum"}
    if unknown:
        return [f"{where}: the test does not know {sorted(unknown)}"]
    types = schema.get("type", [])
    types = types if isinstance(types, list) else [types]
    if types and not any(isinstance(value, JSON_TYPES[t])
                         and not (t in ("integer", "number") and isinstance(value, bool))
                         for t in types):
        return [f"{where}: {value!r} is not {' or '.join(types)}"]
    if value is None:
        return []
    problems = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {value!r} not in {schema['enum']}")
    if isinstance(value, str):
        if len(value) > schema.get("maxLength", len(value)):
            problems.append(f"{where}: longer than {schema['maxLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            problems.append(f"{where}: {value!r} does not match {schema['pattern']}")
        try:
            if schema.get("format") == "date":
                datetime.date.fromisoformat(value)
            elif schema.get("format") == "date-time":
                datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            problems.append(f"{where}: {value!r} is no {schema['format']}")
    if isinstance(value, (int, float)) and value < schema.get("minimum", value):
        problems.append(f"{where}: {value} below {schema['minimum']}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            problems += conform(doc, schema["items"], item, f"{where}[{i}]")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        missing = set(schema.get("required", [])) - set(value)
        if missing:
            problems.append(f"{where}: missing {sorted(missing)}")
        if schema.get("additionalProperties") is False and set(value) - set(properties):
            problems.append(f"{where}: undocumented {sorted(set(value) - set(properties))}")
        for name, item in value.items():
            if name in properties:
                problems += conform(doc, properties[name], item, f"{where}.{name}")
    return problems


def test_examples_fit_their_schemas(doc):
    count = 0
    for (method, path), operation in operations(doc).items():
        media = []
        if "requestBody" in operation:
            media.append(("body", deref(doc, operation["requestBody"])["content"][JSON]))
        for status, response in operation["responses"].items():
            media.append((status, deref(doc, response)["content"][JSON]))
        for what, content in media:
            examples = list(example_values(content))
            assert examples, f"{method} {path} {what}: no example"
            for name, value in examples:
                count += 1
                assert conform(doc, content["schema"], value) == [], \
                    f"{method} {path} {what} {name}"
        for parameter in operation.get("parameters", []):
            parameter = deref(doc, parameter)
            if "example" in parameter:
                assert conform(doc, parameter["schema"], parameter["example"]) == []
    assert count > 30


# --- talking to tenantd ----------------------------------------------------------

class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a unix socket (requests has no adapter for it)."""

    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


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


def check_answer(doc, method, template, status, answer):
    """The answer fits the schema the document gives for this status."""
    operation = doc["paths"][template][method.lower()]
    assert str(status) in operation["responses"], \
        f"{method} {template} answered {status}, which is not documented: {answer}"
    problems = conform(doc, response_schema(doc, operation, str(status)), answer)
    assert problems == [], f"{method} {template} {status}: {problems}"


def test_every_route_answers_as_documented(stack, doc):
    called = set()

    def api(method, template, path=None, body=None, status=200):
        got, answer = call(stack, method, path or template, body)
        assert got == status, f"{method} {path or template}: {got} {answer}"
        check_answer(doc, method, template, got, answer)
        called.add((method, template))
        return answer

    api("GET", "/admin/v1/health")
    tenant = api("POST", "/admin/v1/tenants", body={
        "slug": "hamburg", "name": "Freie und Hansestadt Hamburg"}, status=201)
    assert tenant["status"] == "active"
    assert api("GET", "/admin/v1/tenants")["data"]
    api("GET", "/admin/v1/tenants/{slug}", "/admin/v1/tenants/hamburg")
    keys = "/admin/v1/tenants/hamburg/keys"
    alice = api("POST", "/admin/v1/tenants/{slug}/keys", keys,
                {"user": "alice", "name": "Fachverfahren X"}, status=201)
    bob = api("POST", "/admin/v1/tenants/{slug}/keys", keys, {"user": "bob"}, status=201)
    assert bob["name"] is None
    listed = api("GET", "/admin/v1/tenants/{slug}/keys", keys)["data"]
    assert [key["id"] for key in listed] == [alice["id"], bob["id"]]
    assert all("key" not in key for key in listed), "a list shows a secret key"
    revoked = api("POST", "/admin/v1/keys/{key_id}/revoke",
                  f"/admin/v1/keys/{bob['id']}/revoke")
    assert revoked["revoked_at"] is not None
    suspended = api("POST", "/admin/v1/tenants/{slug}/suspend", "/admin/v1/tenants/hamburg/suspend")
    assert suspended["status"] == "suspended"
    resumed = api("POST", "/admin/v1/tenants/{slug}/resume", "/admin/v1/tenants/hamburg/resume")
    assert resumed["status"] == "active"

    model = {"alias": "openapi/probe-1.0", "pool": "default"}
    assert api("POST", "/admin/v1/models", body=model, status=201)["upstream_model"] is None
    changed = api("POST", "/admin/v1/models", body={**model, "upstream_model": "probe"})
    assert changed["upstream_model"] == "probe"
    assert model["alias"] in [m["alias"] for m in api("GET", "/admin/v1/models")["data"]]

    # Usage with rows: a tenant whose user sent one request through the gateway.
    key_id, secret = stack.onboard("sachsen-anhalt", user="erika")
    assert stack.chat(secret, "Guten Tag").status_code == 200
    usage = "/admin/v1/tenants/sachsen-anhalt/usage"
    wait_until(lambda: call(stack, "GET", usage)[1]["rows"], timeout=10,
               what="the request in the usage report")
    for by in ("day", "user", "model"):
        report = api("GET", "/admin/v1/tenants/{slug}/usage", f"{usage}?by={by}")
        assert report["by"] == by and report["totals"]["requests"] == 1, report
    assert api("GET", "/admin/v1/tenants/{slug}/usage",
               "/admin/v1/tenants/hamburg/usage?from=2026-11-01&to=2026-11-29")["rows"] == []
    wait_until(lambda: call(stack, "GET", "/admin/v1/tenants/sachsen-anhalt/keys")[1][
        "data"][0]["last_used_at"], timeout=10, what="last_used_at of the key")
    api("GET", "/admin/v1/tenants/{slug}/keys", "/admin/v1/tenants/sachsen-anhalt/keys")

    assert called == tenantd_routes(), "every route is called above"


@pytest.fixture(scope="module")
def bremen(stack):
    status, answer = call(stack, "POST", "/admin/v1/tenants",
                          {"slug": "bremen-finanzen", "name": "Bremen – Senatorin für Finanzen"})
    assert status == 201, answer
    return "bremen-finanzen"


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
    ("GET", "/admin/v1/tenants/nirgendwo", None, 404, "tenant_not_found",
     ("GET", "/admin/v1/tenants/{slug}")),
    ("POST", "/admin/v1/tenants/nirgendwo/suspend", None, 404, "tenant_not_found",
     ("POST", "/admin/v1/tenants/{slug}/suspend")),
    ("POST", "/admin/v1/tenants/nirgendwo/resume", None, 404, "tenant_not_found",
     ("POST", "/admin/v1/tenants/{slug}/resume")),
    ("GET", "/admin/v1/tenants/nirgendwo/keys", None, 404, "tenant_not_found",
     ("GET", "/admin/v1/tenants/{slug}/keys")),
    ("POST", "/admin/v1/tenants/nirgendwo/keys", {"user": "alice"}, 404, "tenant_not_found",
     ("POST", "/admin/v1/tenants/{slug}/keys")),
    ("POST", "/admin/v1/tenants/bremen-finanzen/keys", {"user": "alice", "expires": None},
     400, "invalid_body", ("POST", "/admin/v1/tenants/{slug}/keys")),
    ("POST", "/admin/v1/tenants/bremen-finanzen/keys", {"user": "alice smith"},
     400, "invalid_body", ("POST", "/admin/v1/tenants/{slug}/keys")),
    ("POST", "/admin/v1/keys/key_0000000000000000/revoke", None, 404, "key_not_found",
     ("POST", "/admin/v1/keys/{key_id}/revoke")),
    ("POST", "/admin/v1/models", {"alias": "llama-3.1-8b"}, 400, "invalid_body",
     ("POST", "/admin/v1/models")),
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
    ("DELETE", "/admin/v1/tenants/bremen-finanzen", None, 405, "method_not_allowed", None),
    ("GET", "/admin/v1/tenants/bremen-finanzen/suspend", None, 405, "method_not_allowed",
     None),
    ("GET", "/admin/v1/nirgendwo", None, 404, "not_found", None),
    ("GET", "/admin/v1/tenants/Nicht_Gueltig", None, 400, "invalid_parameter",
     ("GET", "/admin/v1/tenants/{slug}")),
    ("POST", "/admin/v1/keys/lmk_secret/revoke", None, 400, "invalid_parameter",
     ("POST", "/admin/v1/keys/{key_id}/revoke")),
]


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


def test_tcp_listener_needs_the_operator_token(stack, doc):
    url = stack.env["LLMOIN_TENANTD_URL"]
    for headers in ({}, {"Authorization": "Bearer " + "x" * 40}):
        response = requests.get(f"{url}/admin/v1/tenants", headers=headers, timeout=10)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "operator_token_required"
        check_answer(doc, "GET", "/admin/v1/tenants", 401, response.json())
    health = requests.get(f"{url}/admin/v1/health", timeout=10)
    assert health.status_code == 200, "the health check needs no token"
    check_answer(doc, "GET", "/admin/v1/health", 200, health.json())


def test_database_down_is_documented(stack, doc):
    """Last in this module: stops PostgreSQL and starts it again."""
    stack.ops("stop", "postgres")
    try:
        status, answer = call(stack, "GET", "/admin/v1/tenants")
        assert (status, answer["error"]["code"]) == (503, "database_unavailable"), answer
        check_answer(doc, "GET", "/admin/v1/tenants", status, answer)
        status, answer = call(stack, "GET", "/admin/v1/health")
        assert status == 503 and answer["status"] == "degraded", answer
        check_answer(doc, "GET", "/admin/v1/health", status, answer)
    finally:
        stack.ops("start")
    wait_until(lambda: call(stack, "GET", "/admin/v1/health")[0] == 200, timeout=10,
               what="tenantd back on its database")
