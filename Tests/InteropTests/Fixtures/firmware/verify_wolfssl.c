/* Verifies a chain the way firmware on wolfSSL does, against the PEM string of an
 * `iotca trust-store --format c` header.
 * usage: verify_wolfssl LEAF.pem INTERMEDIATE.pem...
 * exit 0: the chain verifies; 2: it does not; 1: the anchors did not load. */
#include <stdio.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include "trust.h"

int main(int argc, char **argv)
{
    WOLFSSL_CERT_MANAGER *manager;
    int ret, i;

    if (argc < 2) {
        fprintf(stderr, "usage: %s LEAF.pem INTERMEDIATE.pem...\n", argv[0]);
        return 1;
    }
    wolfSSL_Init();
    manager = wolfSSL_CertManagerNew();
    if (manager == NULL) {
        return 1;
    }
    ret = wolfSSL_CertManagerLoadCABuffer(manager, (const unsigned char *)iotca_trust_anchors_pem,
                                          (long)sizeof iotca_trust_anchors_pem, WOLFSSL_FILETYPE_PEM);
    if (ret != WOLFSSL_SUCCESS) {
        fprintf(stderr, "anchors did not load: %d\n", ret);
        return 1;
    }
    /* Each intermediate, from the top, must verify under what is loaded before it is loaded
     * itself: wolfSSL_CertManagerLoadCA alone would trust any CA certificate it is given. */
    for (i = argc - 1; i >= 2; i--) {
        ret = wolfSSL_CertManagerVerify(manager, argv[i], WOLFSSL_FILETYPE_PEM);
        if (ret != WOLFSSL_SUCCESS) {
            fprintf(stderr, "intermediate %s refused: %d\n", argv[i], ret);
            return 2;
        }
        ret = wolfSSL_CertManagerLoadCA(manager, argv[i], NULL);
        if (ret != WOLFSSL_SUCCESS) {
            fprintf(stderr, "intermediate %s did not load: %d\n", argv[i], ret);
            return 1;
        }
    }
    ret = wolfSSL_CertManagerVerify(manager, argv[1], WOLFSSL_FILETYPE_PEM);
    if (ret != WOLFSSL_SUCCESS) {
        fprintf(stderr, "chain refused: %d\n", ret);
        return 2;
    }
    printf("chain verified\n");
    wolfSSL_CertManagerFree(manager);
    wolfSSL_Cleanup();
    return 0;
}
