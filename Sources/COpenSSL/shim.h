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
#endif
