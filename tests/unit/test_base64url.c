/*
 * base64url: RFC 4648 §10 vectors (in the unpadded url alphabet), the
 * alphabet's last two symbols, every rejection rule, the canonical-form
 * rule checked exhaustively over all 2- and 3-character tails, buffer
 * bounds, and round trips of every length.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base64url.h"

#define S(lit) lit, sizeof(lit) - 1

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int decode(const char *in, size_t len, unsigned char *out, size_t cap,
                  size_t *out_len)
{
    return llmoin_base64url_decode(in, len, out, cap, out_len);
}

static void test_rfc4648_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *plain, *encoded;
    } v[] = {
        {"", ""},           {"f", "Zg"},         {"fo", "Zm8"},
        {"foo", "Zm9v"},    {"foob", "Zm9vYg"},  {"fooba", "Zm9vYmE"},
        {"foobar", "Zm9vYmFy"},
    };
    unsigned char out[16];
    char text[16];
    size_t n;

    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t plen = strlen(v[i].plain), elen = strlen(v[i].encoded);

        assert_int_equal(llmoin_base64url_encoded_len(plen), elen);
        assert_int_equal(llmoin_base64url_decoded_max(elen), plen);
        assert_int_equal(llmoin_base64url_encode((const unsigned char *)v[i].plain,
                                                 plen, text, sizeof text, &n),
                         0);
        assert_int_equal(n, elen);
        assert_string_equal(text, v[i].encoded);
        n = 99;
        assert_int_equal(decode(v[i].encoded, elen, out, sizeof out, &n), 0);
        assert_int_equal(n, plen);
        assert_memory_equal(out, v[i].plain, plen);
    }
}

static void test_url_alphabet(void **state)
{
    (void)state;
    /* standard base64 "+/8=" */
    static const unsigned char bytes[] = {0xfb, 0xff};
    unsigned char out[4];
    char text[8];
    size_t n;

    assert_int_equal(llmoin_base64url_encode(bytes, 2, text, sizeof text, &n), 0);
    assert_string_equal(text, "-_8");
    assert_int_equal(decode(S("-_8"), out, sizeof out, &n), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(out, bytes, 2);

    /* every symbol decodes to its index */
    for (int i = 0; i < 64; i++) {
        char in[2] = {alphabet[i], 'A'};
        unsigned char expect = (unsigned char)(i << 2);

        assert_int_equal(decode(in, 2, out, sizeof out, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(out[0], expect);
    }
}

static void test_rejects_characters(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "Zg==", "Zg=", "Zm9v=A==", "Zm+v", "Zm/v", "Zm9 ", " Zm9", "Zm\n9",
        "Zm.v", "Zm9v\t",
    };
    unsigned char out[16];
    size_t n;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = strlen(bad[i]);
        int rc = decode(bad[i], len, out, sizeof out, &n);

        if (len % 4 == 1)
            assert_int_equal(rc, LLMOIN_BASE64URL_ELENGTH);
        else
            assert_int_equal(rc, LLMOIN_BASE64URL_ECHAR);
        assert_int_equal(n, 0);
    }
    /* bytes outside ASCII, and NUL, are not in the alphabet either */
    for (int c = 0; c < 256; c++) {
        char in[4] = {'Z', 'm', '9', (char)c};

        if (memchr(alphabet, c, 64) != NULL && c != 0)
            continue;
        assert_int_equal(decode(in, 4, out, sizeof out, &n),
                         LLMOIN_BASE64URL_ECHAR);
    }
}

static void test_rejects_length(void **state)
{
    (void)state;
    unsigned char out[16];
    size_t n;

    assert_int_equal(decode(S("Z"), out, sizeof out, &n),
                     LLMOIN_BASE64URL_ELENGTH);
    assert_int_equal(decode(S("Zm9vY"), out, sizeof out, &n),
                     LLMOIN_BASE64URL_ELENGTH);
    assert_int_equal(decode(S("Zm9vYmFyZ"), out, sizeof out, &n),
                     LLMOIN_BASE64URL_ELENGTH);
    /* the length rule is checked before the characters */
    assert_int_equal(decode(S("Zm9v="), out, sizeof out, &n),
                     LLMOIN_BASE64URL_ELENGTH);
}

static void test_rejects_non_canonical(void **state)
{
    (void)state;
    unsigned char out[4];
    size_t n;

    /* "Zg" is "f"; "Zh".."Zv" carry set bits in the unused low 4 bits */
    assert_int_equal(decode(S("Zh"), out, sizeof out, &n),
                     LLMOIN_BASE64URL_ENONCANONICAL);
    assert_int_equal(decode(S("Zv"), out, sizeof out, &n),
                     LLMOIN_BASE64URL_ENONCANONICAL);
    /* "Zm8" is "fo"; "Zm9" sets one of the unused low 2 bits */
    assert_int_equal(decode(S("Zm9"), out, sizeof out, &n),
                     LLMOIN_BASE64URL_ENONCANONICAL);
    assert_int_equal(decode(S("Zm-"), out, sizeof out, &n),
                     LLMOIN_BASE64URL_ENONCANONICAL);
    assert_int_equal(n, 0);
}

/* Every 2- and 3-character tail: accepted exactly when canonical, and then
 * re-encoded to the same text (one encoding per byte string). */
static void test_canonical_exhaustive(void **state)
{
    (void)state;
    unsigned char out[4];
    char text[8];
    size_t n, accepted2 = 0, accepted3 = 0;

    for (int a = 0; a < 64; a++)
        for (int b = 0; b < 64; b++) {
            char in[3] = {alphabet[a], alphabet[b], 0};
            int rc = decode(in, 2, out, sizeof out, &n);

            assert_int_equal(rc == 0, (b & 15) == 0);
            if (rc == 0) {
                accepted2++;
                assert_int_equal(llmoin_base64url_encode(out, n, text,
                                                         sizeof text, NULL), 0);
                assert_memory_equal(text, in, 2);
            }
            for (int c = 0; c < 64; c++) {
                in[2] = alphabet[c];
                rc = decode(in, 3, out, sizeof out, &n);
                assert_int_equal(rc == 0, (c & 3) == 0);
                if (rc != 0)
                    continue;
                accepted3++;
                assert_int_equal(n, 2);
                assert_int_equal(llmoin_base64url_encode(out, n, text,
                                                         sizeof text, NULL), 0);
                assert_memory_equal(text, in, 3);
            }
        }
    assert_int_equal(accepted2, 256);      /* one per byte value */
    assert_int_equal(accepted3, 256 * 256); /* one per pair of bytes */
}

static void test_buffer_bounds(void **state)
{
    (void)state;
    unsigned char out[8];
    char text[9];
    size_t n;

    /* decode: needs decoded_max bytes, not one more */
    assert_int_equal(decode(S("Zm9vYmE"), out, 4, &n), LLMOIN_BASE64URL_ESPACE);
    assert_int_equal(decode(S("Zm9vYmE"), out, 5, &n), 0);
    assert_int_equal(n, 5);
    assert_int_equal(decode(S(""), NULL, 0, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(decode(S("Zg"), NULL, 0, &n), LLMOIN_BASE64URL_ESPACE);

    /* encode: needs room for the NUL */
    assert_int_equal(llmoin_base64url_encode((const unsigned char *)"foob", 4,
                                             text, 6, &n),
                     LLMOIN_BASE64URL_ESPACE);
    assert_int_equal(n, 0);
    assert_int_equal(llmoin_base64url_encode((const unsigned char *)"foob", 4,
                                             text, 7, &n), 0);
    assert_string_equal(text, "Zm9vYg");
    assert_int_equal(llmoin_base64url_encode(NULL, 0, text, 1, &n), 0);
    assert_string_equal(text, "");
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    unsigned char out[4];
    char text[4];
    size_t n;

    assert_int_equal(decode(NULL, 2, out, sizeof out, &n),
                     LLMOIN_BASE64URL_EINVAL);
    assert_int_equal(decode(S("Zg"), out, sizeof out, NULL),
                     LLMOIN_BASE64URL_EINVAL);
    assert_int_equal(decode(S("Zg"), NULL, 4, &n), LLMOIN_BASE64URL_EINVAL);
    assert_int_equal(llmoin_base64url_encode(NULL, 1, text, sizeof text, &n),
                     LLMOIN_BASE64URL_EINVAL);
    assert_int_equal(llmoin_base64url_encode((const unsigned char *)"f", 1,
                                             NULL, 4, &n),
                     LLMOIN_BASE64URL_EINVAL);
    assert_int_equal(llmoin_base64url_encoded_len(SIZE_MAX), SIZE_MAX);
    /* the largest input whose encoding length fits, and the next group */
    assert_true(llmoin_base64url_encoded_len(3 * ((SIZE_MAX - 4) / 4)) ==
                (SIZE_MAX - 4) / 4 * 4);
    assert_true(llmoin_base64url_encoded_len(3 * ((SIZE_MAX - 4) / 4 + 1)) ==
                SIZE_MAX);
}

static void test_lengths(void **state)
{
    (void)state;
    static const size_t expect[] = {0, 0, 1, 2, 3, 3, 4, 5, 6, 6};

    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++)
        assert_int_equal(llmoin_base64url_decoded_max(i), expect[i]);
    assert_int_equal(llmoin_base64url_decoded_max(342), 256); /* RSA-2048 sig */
    assert_int_equal(llmoin_base64url_decoded_max(86), 64);   /* ES256 sig */
    assert_int_equal(llmoin_base64url_encoded_len(256), 342);
    assert_int_equal(llmoin_base64url_encoded_len(64), 86);
}

static void test_round_trips(void **state)
{
    (void)state;
    unsigned char in[200], out[200];
    char text[300];
    size_t n, m;

    srand(7);
    for (size_t len = 0; len <= sizeof in; len++) {
        for (size_t i = 0; i < len; i++)
            in[i] = (unsigned char)rand();
        assert_int_equal(llmoin_base64url_encode(in, len, text, sizeof text, &n),
                         0);
        assert_int_equal(n, llmoin_base64url_encoded_len(len));
        assert_int_equal(strlen(text), n);
        assert_int_not_equal(n % 4, 1);
        assert_int_equal(decode(text, n, out, sizeof out, &m), 0);
        assert_int_equal(m, len);
        assert_memory_equal(out, in, len);
    }
}

static void test_strerror(void **state)
{
    (void)state;
    for (int e = 0; e >= -5; e--) {
        assert_non_null(llmoin_base64url_strerror(e));
        for (int f = 0; f > e; f--)
            assert_string_not_equal(llmoin_base64url_strerror(e),
                                    llmoin_base64url_strerror(f));
    }
    assert_string_equal(llmoin_base64url_strerror(-99),
                        "unknown base64url error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_url_alphabet),
        cmocka_unit_test(test_rejects_characters),
        cmocka_unit_test(test_rejects_length),
        cmocka_unit_test(test_rejects_non_canonical),
        cmocka_unit_test(test_canonical_exhaustive),
        cmocka_unit_test(test_buffer_bounds),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_strerror),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
