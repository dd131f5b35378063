/*
 * pseudonym: output format, known answers (HMAC-SHA256 computed
 * independently with Python's hmac and `openssl dgst -mac HMAC`, and RFC
 * 4231 test case 2), and that secrets and users each change the result.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pseudonym.h"

#define S(lit) lit, sizeof(lit) - 1

static const unsigned char secret16[16] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
                                           0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
                                           0x0c, 0x0d, 0x0e, 0x0f};

static void pseudonym_ok(const unsigned char *secret, size_t secret_length,
                         const char *user, size_t user_length,
                         char out[LLMOIN_PSEUDONYM_BUFSZ])
{
    assert_int_equal(
        llmoin_pseudonym(secret, secret_length, user, user_length, out), 0);
}

static void assert_format(const char *p)
{
    assert_int_equal(strlen(p), LLMOIN_PSEUDONYM_LEN);
    assert_int_equal(strlen(p), 34);
    assert_memory_equal(p, "u_", 2);
    for (size_t i = 2; i < LLMOIN_PSEUDONYM_LEN; i++)
        assert_non_null(strchr("0123456789abcdef", p[i]));
}

static void test_format(void **state)
{
    (void)state;
    char out[LLMOIN_PSEUDONYM_BUFSZ + 4];
    char user[16];

    for (int i = 0; i < 200; i++) {
        memset(out, 'Z', sizeof out);
        snprintf(user, sizeof user, "user%d", i);
        pseudonym_ok(secret16, sizeof secret16, user, strlen(user), out);
        assert_format(out);
        /* written: 34 characters and the NUL, nothing after */
        assert_memory_equal(out + LLMOIN_PSEUDONYM_BUFSZ, "ZZZZ", 4);
    }
}

static void test_known_answers(void **state)
{
    (void)state;
    char out[LLMOIN_PSEUDONYM_BUFSZ];
    static const unsigned char secret32[32] = {
        0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa,
        0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5,
        0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf};
    unsigned char secret100[100];

    /* RFC 4231 test case 2: HMAC-SHA256("Jefe", "what do ya want for
     * nothing?") = 5bdcc146bf60754e6a042426089575c75a003f08... */
    pseudonym_ok((const unsigned char *)"Jefe", 4,
                 S("what do ya want for nothing?"), out);
    assert_string_equal(out, "u_5bdcc146bf60754e6a042426089575c7");

    pseudonym_ok(secret16, sizeof secret16, S("alice"), out);
    assert_string_equal(out, "u_6457555a292cb5d30ca0da97b781a26f");
    pseudonym_ok(secret16, sizeof secret16, S("bob"), out);
    assert_string_equal(out, "u_70578d7366ae542c7bde3d0445100857");
    pseudonym_ok(secret32, sizeof secret32, S("alice"), out);
    assert_string_equal(out, "u_ebf0c6b99a6fe7df956fc9cdacbea36e");
    pseudonym_ok(secret32, sizeof secret32, S("carol"), out);
    assert_string_equal(out, "u_9460379e6b15a63c1448abbb8a867290");
    /* UTF-8 user ids are bytes like any other */
    pseudonym_ok(secret16, sizeof secret16, S("j\xc3\xbcrgen@stadt.de"), out);
    assert_string_equal(out, "u_96544bdce030ef1d96500175f4e976eb");

    /* a secret longer than the SHA-256 block (64 bytes) is hashed first */
    for (size_t i = 0; i < sizeof secret100; i++)
        secret100[i] = (unsigned char)(i * 7 + 3);
    pseudonym_ok(secret100, sizeof secret100, S("alice"), out);
    assert_string_equal(out, "u_0e1baebad6736f6359430e85bb5e22ed");
}

static void test_length_counts_not_nul(void **state)
{
    (void)state;
    char a[LLMOIN_PSEUDONYM_BUFSZ], b[LLMOIN_PSEUDONYM_BUFSZ];

    pseudonym_ok(secret16, sizeof secret16, "alice-and-more", 5, a);
    assert_string_equal(a, "u_6457555a292cb5d30ca0da97b781a26f");
    /* an embedded NUL is part of the user id */
    pseudonym_ok(secret16, sizeof secret16, "alice\0x", 7, b);
    assert_string_equal(b, "u_95a4cd8d42241945e5f75e27af0cbf8a");
    assert_string_not_equal(a, b);
}

static void test_empty_user(void **state)
{
    (void)state;
    char out[LLMOIN_PSEUDONYM_BUFSZ], other[LLMOIN_PSEUDONYM_BUFSZ];

    pseudonym_ok(secret16, sizeof secret16, "", 0, out);
    assert_string_equal(out, "u_07eff8b326b7798c9ccfcbdbe579489a");
    pseudonym_ok(secret16, sizeof secret16, "ignored", 0, other);
    assert_string_equal(other, out);
}

static void test_inputs_change_output(void **state)
{
    (void)state;
    char base[LLMOIN_PSEUDONYM_BUFSZ], out[LLMOIN_PSEUDONYM_BUFSZ],
        again[LLMOIN_PSEUDONYM_BUFSZ];
    unsigned char secret[16];

    pseudonym_ok(secret16, sizeof secret16, S("alice"), base);
    /* deterministic */
    pseudonym_ok(secret16, sizeof secret16, S("alice"), again);
    assert_string_equal(again, base);

    /* every bit of the secret matters */
    for (size_t bit = 0; bit < 8 * sizeof secret; bit++) {
        memcpy(secret, secret16, sizeof secret);
        secret[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        pseudonym_ok(secret, sizeof secret, S("alice"), out);
        assert_string_not_equal(out, base);
    }
    /* so does its length: a prefix of the secret is another secret */
    pseudonym_ok(secret16, 15, S("alice"), out);
    assert_string_not_equal(out, base);

    /* users that differ little give unrelated pseudonyms */
    static const char *const users[] = {"alicf", "Alice", "alice ", " alice",
                                        "alic", "bob", "alice@example.org"};
    for (size_t i = 0; i < sizeof users / sizeof users[0]; i++) {
        pseudonym_ok(secret16, sizeof secret16, users[i], strlen(users[i]), out);
        assert_string_not_equal(out, base);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_length_counts_not_nul),
        cmocka_unit_test(test_empty_user),
        cmocka_unit_test(test_inputs_change_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
