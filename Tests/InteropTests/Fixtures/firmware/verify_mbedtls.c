/* Verifies a chain the way firmware on mbedTLS does, against the anchors of an
 * `iotca trust-store` export: the C header's PEM string (`pem`), its DER table (`der`), or
 * Zephyr's NAME.der.inc files (`zephyr`, through zephyr_anchors.h, which the test writes).
 * usage: verify_mbedtls pem|der|zephyr LEAF.pem [INTERMEDIATES.pem]
 * exit 0: the chain verifies; 2: it does not; 1: a file or anchor did not parse. */
#include <stdio.h>
#include <string.h>
#include <mbedtls/x509_crt.h>
#include "trust.h"
#ifdef IOTCA_ZEPHYR
#include "zephyr_anchors.h"
#endif

int main(int argc, char **argv)
{
    mbedtls_x509_crt anchors, chain;
    uint32_t flags = 0;
    int ret = 0;
    size_t i;

    if (argc < 3) {
        fprintf(stderr, "usage: %s pem|der|zephyr LEAF.pem [INTERMEDIATES.pem]\n", argv[0]);
        return 1;
    }
    mbedtls_x509_crt_init(&anchors);
    mbedtls_x509_crt_init(&chain);
    if (strcmp(argv[1], "pem") == 0) {
        ret = mbedtls_x509_crt_parse(&anchors, (const unsigned char *)iotca_trust_anchors_pem, sizeof iotca_trust_anchors_pem);
    } else if (strcmp(argv[1], "der") == 0) {
        for (i = 0; i < IOTCA_TRUST_ANCHOR_COUNT && ret == 0; i++) {
            ret = mbedtls_x509_crt_parse_der(&anchors, iotca_trust_anchors[i].der, iotca_trust_anchors[i].der_len);
        }
    } else {
#ifdef IOTCA_ZEPHYR
        for (i = 0; i < ZEPHYR_ANCHOR_COUNT && ret == 0; i++) {
            ret = mbedtls_x509_crt_parse_der(&anchors, zephyr_anchors[i].der, zephyr_anchors[i].len);
        }
#else
        ret = -1;
#endif
    }
    if (ret != 0) {
        fprintf(stderr, "anchors did not parse: -0x%04x\n", (unsigned)-ret);
        return 1;
    }
    for (i = 2; i < (size_t)argc; i++) {
        ret = mbedtls_x509_crt_parse_file(&chain, argv[i]);
        if (ret != 0) {
            fprintf(stderr, "%s did not parse: -0x%04x\n", argv[i], (unsigned)-ret);
            return 1;
        }
    }
    ret = mbedtls_x509_crt_verify(&chain, &anchors, NULL, NULL, &flags, NULL, NULL);
    if (ret != 0) {
        char why[512];
        mbedtls_x509_crt_verify_info(why, sizeof why, "", flags);
        fprintf(stderr, "chain refused (flags 0x%08x): %s", (unsigned)flags, why);
        return 2;
    }
    printf("chain verified\n");
    mbedtls_x509_crt_free(&chain);
    mbedtls_x509_crt_free(&anchors);
    return 0;
}
