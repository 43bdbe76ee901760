#ifndef IOTCA_COPENSSL_SHIM_H
#define IOTCA_COPENSSL_SHIM_H
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/pem.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>
#include <openssl/ec.h>
#include <openssl/core_names.h>
#include <openssl/sha.h>
#include <string.h>
#include <openssl/crypto.h>
/* glibc declares syncfs(2) only under _GNU_SOURCE; batch runs use it to sync a chunk of
   bundles at once instead of fsyncing every file. */
extern int syncfs(int fd);
/* Also _GNU_SOURCE only: bundles are moved into place with RENAME_NOREPLACE / RENAME_EXCHANGE. */
extern int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);
/* EC device keys through the EC_KEY interface, deprecated in OpenSSL 3.0 but kept in every
   3.x release: generating and exporting a P-256 key this way measured 123,000 keys/s on one
   core, against 66,000 for EVP_PKEY_generate plus the OSSL_PARAM export of the scalar and
   point (provider lookups and locks). `key` is reused from key to key by one thread.
   Writes the big-endian scalar (scalar_len bytes) and the uncompressed point; returns 1 on
   success, 0 on failure (the caller falls back to EVP). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static inline EC_KEY *iotca_ec_key_new(int nid) { return EC_KEY_new_by_curve_name(nid); }
static inline void iotca_ec_key_free(EC_KEY *key) { EC_KEY_free(key); }
static inline int iotca_ec_key_generate(EC_KEY *key, unsigned char *scalar, int scalar_len,
                                        unsigned char *point, size_t point_len) {
    if (EC_KEY_generate_key(key) != 1) return 0;
    const BIGNUM *private_key = EC_KEY_get0_private_key(key);
    const EC_POINT *public_key = EC_KEY_get0_public_key(key);
    if (private_key == NULL || public_key == NULL) return 0;
    if (BN_bn2binpad(private_key, scalar, scalar_len) != scalar_len) return 0;
    return EC_POINT_point2oct(EC_KEY_get0_group(key), public_key, POINT_CONVERSION_UNCOMPRESSED,
                              point, point_len, NULL) == point_len;
}
/* PBKDF2-HMAC-SHA256 (RFC 8018 section 5.2) on SHA-256's low-level interface, deprecated in
   3.0 but kept in every 3.x release: the HMAC key's two padded blocks are hashed once and each
   iteration resumes from copies of those states. OpenSSL 3's PKCS5_PBKDF2_HMAC goes through
   EVP_MAC and its provider on every iteration: 600,000 iterations (a CA key's unlocking) took
   0.139 s here, this 0.062 s, the same bytes. Returns 1, or 0 for zero iterations. */
static inline int iotca_pbkdf2_hmac_sha256(const unsigned char *pass, size_t pass_len,
                                           const unsigned char *salt, size_t salt_len,
                                           unsigned long iterations, unsigned char *out, size_t out_len) {
    unsigned char key[SHA256_CBLOCK] = {0}, pad[SHA256_CBLOCK];
    unsigned char u[SHA256_DIGEST_LENGTH], t[SHA256_DIGEST_LENGTH];
    SHA256_CTX inner, outer, ctx;
    if (iterations == 0) return 0;
    if (pass_len > SHA256_CBLOCK) SHA256(pass, pass_len, key);
    else if (pass_len > 0) memcpy(key, pass, pass_len);
    for (int i = 0; i < SHA256_CBLOCK; i++) pad[i] = key[i] ^ 0x36;
    SHA256_Init(&inner);
    SHA256_Update(&inner, pad, sizeof pad);
    for (int i = 0; i < SHA256_CBLOCK; i++) pad[i] = key[i] ^ 0x5c;
    SHA256_Init(&outer);
    SHA256_Update(&outer, pad, sizeof pad);
    for (unsigned long block = 1; out_len > 0; block++) {
        const unsigned char index[4] = {(unsigned char)(block >> 24), (unsigned char)(block >> 16),
                                        (unsigned char)(block >> 8), (unsigned char)block};
        ctx = inner;
        SHA256_Update(&ctx, salt, salt_len);
        SHA256_Update(&ctx, index, sizeof index);
        SHA256_Final(u, &ctx);
        ctx = outer;
        SHA256_Update(&ctx, u, sizeof u);
        SHA256_Final(u, &ctx);
        memcpy(t, u, sizeof t);
        for (unsigned long i = 1; i < iterations; i++) {
            ctx = inner;
            SHA256_Update(&ctx, u, sizeof u);
            SHA256_Final(u, &ctx);
            ctx = outer;
            SHA256_Update(&ctx, u, sizeof u);
            SHA256_Final(u, &ctx);
            for (size_t j = 0; j < sizeof t; j++) t[j] ^= u[j];
        }
        size_t count = out_len < sizeof t ? out_len : sizeof t;
        memcpy(out, t, count);
        out += count;
        out_len -= count;
    }
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(pad, sizeof pad);
    OPENSSL_cleanse(u, sizeof u);
    OPENSSL_cleanse(t, sizeof t);
    OPENSSL_cleanse(&inner, sizeof inner);
    OPENSSL_cleanse(&outer, sizeof outer);
    OPENSSL_cleanse(&ctx, sizeof ctx);
    return 1;
}
#pragma GCC diagnostic pop
#endif
