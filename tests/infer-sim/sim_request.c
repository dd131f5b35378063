#include "sim_request.h"

#include "sim_answer.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reject(sim_request_error *error, const char *code,
                  const char *format, ...) __attribute__((format(printf, 3, 4)));

static int reject(sim_request_error *error, const char *code,
                  const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(error->message, sizeof error->message, format, arguments);
    va_end(arguments);
    error->code = code;
    return -1;
}

static const char *type_name(const json_t *value)
{
    switch (json_typeof(value)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a decimal number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "an unknown value";
}

/* A field that is absent or null counts as not given, as OpenAI treats it. */
static const json_t *optional_field(const json_t *object, const char *name)
{
    const json_t *value = json_object_get(object, name);
    return json_is_null(value) ? NULL : value;
}

/* The text of a message is its string content, or its text parts joined by "\n". */
typedef struct message_text {
    uint64_t words;
    uint32_t hash;
} message_text;

static void add_text(message_text *text, const json_t *string, bool first)
{
    if (!first)
        text->hash = sim_fnv1a32_update(text->hash, "\n", 1);
    const char *value = json_string_value(string);
    size_t length = json_string_length(string);
    text->hash = sim_fnv1a32_update(text->hash, value, length);
    text->words += sim_count_words(value, length);
}

static int read_part(const json_t *part, size_t message_index,
                     size_t part_index, message_text *text,
                     sim_request_error *error)
{
    if (!json_is_object(part))
        return reject(error, "invalid_type",
                      "Invalid type for 'messages[%zu].content[%zu]': expected "
                      "an object, but got %s instead.",
                      message_index, part_index, type_name(part));
    const json_t *type = json_object_get(part, "type");
    if (type == NULL)
        return reject(error, "missing_required_parameter",
                      "Missing required parameter: "
                      "'messages[%zu].content[%zu].type'.",
                      message_index, part_index);
    if (!json_is_string(type) || strcmp(json_string_value(type), "text") != 0)
        return reject(error, "invalid_value",
                      "Invalid value for 'messages[%zu].content[%zu].type': "
                      "infer-sim supports only 'text' content parts.",
                      message_index, part_index);
    const json_t *part_text = json_object_get(part, "text");
    if (part_text == NULL)
        return reject(error, "missing_required_parameter",
                      "Missing required parameter: "
                      "'messages[%zu].content[%zu].text'.",
                      message_index, part_index);
    if (!json_is_string(part_text))
        return reject(error, "invalid_type",
                      "Invalid type for 'messages[%zu].content[%zu].text': "
                      "expected a string, but got %s instead.",
                      message_index, part_index, type_name(part_text));
    add_text(text, part_text, part_index == 0);
    return 0;
}

static int read_content(const json_t *content, size_t message_index,
                        message_text *text, sim_request_error *error)
{
    if (json_is_string(content)) {
        add_text(text, content, true);
        return 0;
    }
    if (!json_is_array(content))
        return reject(error, "invalid_type",
                      "Invalid type for 'messages[%zu].content': expected a "
                      "string or an array of content parts, but got %s instead.",
                      message_index, type_name(content));
    size_t part_index;
    const json_t *part;
    json_array_foreach(content, part_index, part) {
        if (read_part(part, message_index, part_index, text, error) != 0)
            return -1;
    }
    return 0;
}

static int read_message(const json_t *message, size_t index,
                        message_text *text, sim_request_error *error)
{
    if (!json_is_object(message))
        return reject(error, "invalid_type",
                      "Invalid type for 'messages[%zu]': expected an object, "
                      "but got %s instead.",
                      index, type_name(message));
    const json_t *role = json_object_get(message, "role");
    if (role == NULL)
        return reject(error, "missing_required_parameter",
                      "Missing required parameter: 'messages[%zu].role'.", index);
    if (!json_is_string(role))
        return reject(error, "invalid_type",
                      "Invalid type for 'messages[%zu].role': expected a "
                      "string, but got %s instead.",
                      index, type_name(role));
    if (json_string_length(role) == 0)
        return reject(error, "invalid_value",
                      "Invalid value for 'messages[%zu].role': expected a "
                      "non-empty string.",
                      index);
    const json_t *content = json_object_get(message, "content");
    if (content == NULL)
        return reject(error, "missing_required_parameter",
                      "Missing required parameter: 'messages[%zu].content'.",
                      index);
    return read_content(content, index, text, error);
}

static int read_messages(const json_t *root, sim_chat_request *request,
                         sim_request_error *error)
{
    const json_t *messages = json_object_get(root, "messages");
    if (messages == NULL)
        return reject(error, "missing_required_parameter",
                      "Missing required parameter: 'messages'.");
    if (!json_is_array(messages))
        return reject(error, "invalid_type",
                      "Invalid type for 'messages': expected an array, but got "
                      "%s instead.",
                      type_name(messages));
    if (json_array_size(messages) == 0)
        return reject(error, "empty_array",
                      "Invalid 'messages': empty array. Expected an array with "
                      "minimum length 1, but got an empty array instead.");
    size_t index;
    const json_t *message;
    json_array_foreach(messages, index, message) {
        message_text text = {.words = 0, .hash = SIM_FNV1A32_OFFSET};
        if (read_message(message, index, &text, error) != 0)
            return -1;
        request->prompt_tokens += text.words + 1;
        request->last_message_hash = text.hash;
    }
    return 0;
}

static int read_boolean(const json_t *root, const char *name, bool *value,
                        sim_request_error *error)
{
    const json_t *field = optional_field(root, name);
    *value = false;
    if (field == NULL)
        return 0;
    if (!json_is_boolean(field))
        return reject(error, "invalid_type",
                      "Invalid type for '%s': expected a boolean, but got %s "
                      "instead.",
                      name, type_name(field));
    *value = json_is_true(field);
    return 0;
}

static int read_stream_options(const json_t *root, sim_chat_request *request,
                               sim_request_error *error)
{
    if (read_boolean(root, "stream", &request->stream, error) != 0)
        return -1;
    const json_t *options = optional_field(root, "stream_options");
    if (options == NULL)
        return 0;
    if (!json_is_object(options))
        return reject(error, "invalid_type",
                      "Invalid type for 'stream_options': expected an object, "
                      "but got %s instead.",
                      type_name(options));
    /* OpenAI and vLLM both refuse this combination; so do we. */
    if (!request->stream)
        return reject(error, "invalid_value",
                      "The 'stream_options' parameter is only allowed when "
                      "'stream' is enabled.");
    const json_t *include = optional_field(options, "include_usage");
    if (include == NULL)
        return 0;
    if (!json_is_boolean(include))
        return reject(error, "invalid_type",
                      "Invalid type for 'stream_options.include_usage': "
                      "expected a boolean, but got %s instead.",
                      type_name(include));
    request->include_usage = json_is_true(include);
    return 0;
}

static int read_limit(const json_t *root, const char *name, uint64_t *limit,
                      sim_request_error *error)
{
    const json_t *field = optional_field(root, name);
    if (field == NULL)
        return 0;
    if (!json_is_integer(field))
        return reject(error, "invalid_type",
                      "Invalid type for '%s': expected an integer, but got %s "
                      "instead.",
                      name, type_name(field));
    json_int_t value = json_integer_value(field);
    if (value < 1)
        return reject(error, "integer_below_min_value",
                      "Invalid '%s': integer below minimum value. Expected a "
                      "value >= 1, but got %" JSON_INTEGER_FORMAT " instead.",
                      name, value);
    /* Both limits given: the tighter one wins. */
    if (*limit == 0 || (uint64_t)value < *limit)
        *limit = (uint64_t)value;
    return 0;
}

static int read_model(const json_t *root, const char *default_model,
                      sim_chat_request *request, sim_request_error *error)
{
    const json_t *model = optional_field(root, "model");
    json_t *fallback = NULL;
    if (model == NULL) {
        fallback = json_string(default_model);
        model = fallback;
    } else if (!json_is_string(model)) {
        return reject(error, "invalid_type",
                      "Invalid type for 'model': expected a string, but got %s "
                      "instead.",
                      type_name(model));
    } else if (json_string_length(model) > SIM_REQUEST_MODEL_MAX) {
        return reject(error, "string_above_max_length",
                      "Invalid 'model': string too long. Expected a string "
                      "with maximum length %u, but got a string with length "
                      "%zu instead.",
                      SIM_REQUEST_MODEL_MAX, json_string_length(model));
    }
    request->model_json = model ? json_dumps(model, JSON_ENCODE_ANY) : NULL;
    json_decref(fallback);
    if (request->model_json == NULL)
        return reject(error, "server_error", "Out of memory.");
    return 0;
}

static int read_request(const json_t *root, const char *default_model,
                        sim_chat_request *request, sim_request_error *error)
{
    if (!json_is_object(root))
        return reject(error, "invalid_type",
                      "Invalid request body: expected a JSON object, but got "
                      "%s instead.",
                      type_name(root));
    if (read_messages(root, request, error) != 0 ||
        read_stream_options(root, request, error) != 0 ||
        read_limit(root, "max_tokens", &request->max_tokens, error) != 0 ||
        read_limit(root, "max_completion_tokens", &request->max_tokens,
                   error) != 0)
        return -1;
    return read_model(root, default_model, request, error);
}

/* jansson quotes the input "near '...'"; that could be prompt text. */
static void strip_quoted_input(char *text)
{
    char *near = strstr(text, " near ");
    if (near != NULL)
        *near = '\0';
}

int sim_request_parse(const char *body, size_t length,
                      const char *default_model, sim_chat_request *request,
                      sim_request_error *error)
{
    memset(request, 0, sizeof *request);
    json_error_t parse_error;
    json_t *root = json_loadb(body, length, JSON_DECODE_ANY, &parse_error);
    if (root == NULL) {
        strip_quoted_input(parse_error.text);
        return reject(error, "invalid_json",
                      "We could not parse the JSON body of your request: %s "
                      "(line %d, column %d).",
                      parse_error.text, parse_error.line, parse_error.column);
    }
    int result = read_request(root, default_model, request, error);
    json_decref(root);
    if (result != 0)
        sim_request_release(request);
    return result;
}

void sim_request_release(sim_chat_request *request)
{
    free(request->model_json);
    request->model_json = NULL;
}
