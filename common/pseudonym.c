#include "pseudonym.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

int
llmoin_pseudonym(const unsigned char *secret, size_t secret_length,
                 const char *user, size_t user_length,
                 char out[LLMOIN_PSEUDONYM_BUFSZ])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char     mac[EVP_MAX_MD_SIZE];
    unsigned int      mac_length = 0;
    size_t            i;

    out[0] = '\0';
    if (HMAC(EVP_sha256(), secret, (int) secret_length,
             (const unsigned char *) user, user_length, mac, &mac_length) == NULL
        || mac_length < 16)
    {
        return -1;
    }
    out[0] = 'u';
    out[1] = '_';
    for (i = 0; i < 16; i++) {
        out[2 + 2 * i] = hex[mac[i] >> 4];
        out[3 + 2 * i] = hex[mac[i] & 0x0f];
    }
    out[LLMOIN_PSEUDONYM_LEN] = '\0';
    return 0;
}
