/*
 * apikey: formats, randomness smoke checks, SHA-256 known answers and the
 * digest comparison.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apikey.h"

#define S(lit) lit, sizeof(lit) - 1
#define N_KEYS 256
/* base64url symbols whose low 2 bits are zero */
#define CANONICAL_LAST "AEIMQUYcgkosw048"

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int cmp_str(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static void test_generate_format(void **state)
{
    (void)state;
    char key[LLMOIN_APIKEY_BUFSZ];

    for (int i = 0; i < 64; i++) {
        memset(key, 'Z', sizeof key);
        assert_int_equal(llmoin_apikey_generate(key), 0);
        assert_int_equal(strlen(key), LLMOIN_APIKEY_LEN);
        assert_int_equal(strlen(key), 47);
        assert_memory_equal(key, "lmk_", 4);
        for (size_t j = 4; j < LLMOIN_APIKEY_LEN; j++)
            assert_non_null(strchr(b64url, key[j]));
        assert_non_null(strchr(CANONICAL_LAST, key[LLMOIN_APIKEY_LEN - 1]));
        assert_true(llmoin_apikey_looks_valid(key, strlen(key)));
    }
}

static void test_generate_unique(void **state)
{
    (void)state;
    char(*keys)[LLMOIN_APIKEY_BUFSZ] = calloc(N_KEYS, sizeof *keys);
    assert_non_null(keys);

    for (int i = 0; i < N_KEYS; i++)
        assert_int_equal(llmoin_apikey_generate(keys[i]), 0);
    qsort(keys, N_KEYS, sizeof *keys, cmp_str);
    for (int i = 1; i < N_KEYS; i++)
        assert_string_not_equal(keys[i - 1], keys[i]);

    /* every base64url symbol shows up in the random part somewhere */
    int seen[64] = {0};
    for (int i = 0; i < N_KEYS; i++)
        for (size_t j = 4; j < LLMOIN_APIKEY_LEN - 1; j++)
            seen[strchr(b64url, keys[i][j]) - b64url] = 1;
    for (int s = 0; s < 64; s++)
        assert_true(seen[s]);
    free(keys);
}

static void test_id_format_and_unique(void **state)
{
    (void)state;
    char(*ids)[LLMOIN_APIKEY_ID_BUFSZ] = calloc(N_KEYS, sizeof *ids);
    assert_non_null(ids);

    for (int i = 0; i < N_KEYS; i++) {
        assert_int_equal(llmoin_apikey_id_generate(ids[i]), 0);
        assert_int_equal(strlen(ids[i]), LLMOIN_APIKEY_ID_LEN);
        assert_int_equal(strlen(ids[i]), 20);
        assert_memory_equal(ids[i], "key_", 4);
        for (size_t j = 4; j < LLMOIN_APIKEY_ID_LEN; j++)
            assert_non_null(strchr("0123456789abcdef", ids[i][j]));
    }
    qsort(ids, N_KEYS, sizeof *ids, cmp_str);
    for (int i = 1; i < N_KEYS; i++)
        assert_string_not_equal(ids[i - 1], ids[i]);
    free(ids);
}

static void test_hash_known_answers(void **state)
{
    (void)state;
    char hex[LLMOIN_APIKEY_HASH_BUFSZ];

    assert_int_equal(llmoin_apikey_hash(S("abc"), hex), 0);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
                             "b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(llmoin_apikey_hash("", 0, hex), 0);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
                             "27ae41e4649b934ca495991b7852b855");
    assert_int_equal(llmoin_apikey_hash(NULL, 0, hex), 0);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
                             "27ae41e4649b934ca495991b7852b855");
    assert_int_equal(
        llmoin_apikey_hash(
            S("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"), hex),
        0);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039"
                             "a33ce45964ff2167f6ecedd419db06c1");
    /* the length counts, not the NUL */
    assert_int_equal(llmoin_apikey_hash("abcdef", 3, hex), 0);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
                             "b00361a396177a9cb410ff61f20015ad");
}

static void test_hash_of_key(void **state)
{
    (void)state;
    char key[LLMOIN_APIKEY_BUFSZ], h1[LLMOIN_APIKEY_HASH_BUFSZ],
        h2[LLMOIN_APIKEY_HASH_BUFSZ];

    assert_int_equal(llmoin_apikey_generate(key), 0);
    assert_int_equal(llmoin_apikey_hash(key, strlen(key), h1), 0);
    assert_int_equal(strlen(h1), 64);
    for (size_t i = 0; i < 64; i++)
        assert_non_null(strchr("0123456789abcdef", h1[i]));
    assert_int_equal(llmoin_apikey_hash(key, strlen(key), h2), 0);
    assert_true(llmoin_hex_digest_equal(h1, h2));
    /* the prefix is part of what is hashed */
    assert_int_equal(llmoin_apikey_hash(key + 4, strlen(key) - 4, h2), 0);
    assert_false(llmoin_hex_digest_equal(h1, h2));
}

static void test_looks_valid(void **state)
{
    (void)state;
    char key[LLMOIN_APIKEY_BUFSZ];
    char bad[LLMOIN_APIKEY_BUFSZ + 1];

    assert_int_equal(llmoin_apikey_generate(key), 0);
    assert_true(llmoin_apikey_looks_valid(key, LLMOIN_APIKEY_LEN));
    assert_false(llmoin_apikey_looks_valid(key, LLMOIN_APIKEY_LEN - 1));
    assert_false(llmoin_apikey_looks_valid(NULL, LLMOIN_APIKEY_LEN));
    assert_false(llmoin_apikey_looks_valid("", 0));

    memcpy(bad, key, sizeof key);
    bad[LLMOIN_APIKEY_LEN] = 'A';
    assert_false(llmoin_apikey_looks_valid(bad, LLMOIN_APIKEY_LEN + 1));

    const char *wrong_prefix[] = {"lmK_", "sk-_", "LMK_", "lmk-"};
    for (size_t i = 0; i < 4; i++) {
        memcpy(bad, key, sizeof key);
        memcpy(bad, wrong_prefix[i], 4);
        assert_false(llmoin_apikey_looks_valid(bad, LLMOIN_APIKEY_LEN));
    }
    const char wrong_chars[] = {'+', '/', '=', '.', ' ', '\0', '\x80', '~'};
    for (size_t i = 0; i < sizeof wrong_chars; i++) {
        memcpy(bad, key, sizeof key);
        bad[10] = wrong_chars[i];
        assert_false(llmoin_apikey_looks_valid(bad, LLMOIN_APIKEY_LEN));
    }
    /* a last character with non-zero padding bits was never generated */
    memcpy(bad, key, sizeof key);
    for (const char *c = b64url; *c; c++) {
        bad[LLMOIN_APIKEY_LEN - 1] = *c;
        assert_int_equal(llmoin_apikey_looks_valid(bad, LLMOIN_APIKEY_LEN),
                         strchr(CANONICAL_LAST, *c) != NULL);
    }
    assert_true(llmoin_apikey_looks_valid(
        S("lmk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")));
    assert_true(llmoin_apikey_looks_valid(
        S("lmk_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_8")));
}

static void test_digest_equal(void **state)
{
    (void)state;
    const char a[] =
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    char b[sizeof a];

    memcpy(b, a, sizeof a);
    assert_true(llmoin_hex_digest_equal(a, b));
    for (size_t i = 0; i < 64; i++) {
        memcpy(b, a, sizeof a);
        b[i] = b[i] == '0' ? '1' : '0';
        assert_false(llmoin_hex_digest_equal(a, b));
    }
    memcpy(b, a, sizeof a);
    b[0] = 'B'; /* case matters */
    assert_false(llmoin_hex_digest_equal(a, b));
    assert_false(llmoin_hex_digest_equal(a, NULL));
    assert_false(llmoin_hex_digest_equal(NULL, a));
    assert_false(llmoin_hex_digest_equal(NULL, NULL));
    assert_false(llmoin_hex_digest_equal("", ""));
    assert_false(llmoin_hex_digest_equal("abc", "abc"));
    /* a prefix of the right digest is not equal, even if equal so far */
    memcpy(b, a, sizeof a);
    b[63] = '\0';
    assert_false(llmoin_hex_digest_equal(b, b));
    char longer[80];
    memcpy(longer, a, 64);
    memcpy(longer + 64, "00", 3);
    assert_false(llmoin_hex_digest_equal(longer, longer));
    assert_false(llmoin_hex_digest_equal(a, longer));
}

static void test_errors(void **state)
{
    (void)state;
    char hex[LLMOIN_APIKEY_HASH_BUFSZ];

    assert_int_equal(llmoin_apikey_generate(NULL), LLMOIN_APIKEY_EINVAL);
    assert_int_equal(llmoin_apikey_id_generate(NULL), LLMOIN_APIKEY_EINVAL);
    assert_int_equal(llmoin_apikey_hash("x", 1, NULL), LLMOIN_APIKEY_EINVAL);
    assert_int_equal(llmoin_apikey_hash(NULL, 1, hex), LLMOIN_APIKEY_EINVAL);
    assert_string_equal(hex, "");
    assert_string_equal(llmoin_apikey_strerror(LLMOIN_APIKEY_ERAND),
                        "random number generator failed");
    assert_non_null(llmoin_apikey_strerror(42));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_format),
        cmocka_unit_test(test_generate_unique),
        cmocka_unit_test(test_id_format_and_unique),
        cmocka_unit_test(test_hash_known_answers),
        cmocka_unit_test(test_hash_of_key),
        cmocka_unit_test(test_looks_valid),
        cmocka_unit_test(test_digest_equal),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
