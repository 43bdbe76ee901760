# Schemathesis hooks for iotca's non-JSON request bodies (OCSP and CMP DER, EST base64 PKCS#10).
import schemathesis
schemathesis.serializer.alias("application/ocsp-request", "application/octet-stream")
schemathesis.serializer.alias("application/pkixcmp", "application/octet-stream")
schemathesis.serializer.alias("application/pkcs10", "text/plain")
