"""The same work as `iotca batch` done by a Python `cryptography` loop: per device a P-256 key,
a certificate with the device template's extensions signed by the issuing CA, and the five
bundle files, synced to disk at the end as iotca syncs its output. Run by
Benchmarks/compare-batch.sh; prints the number of seconds."""
import datetime, json, os, sys, time
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ca_key_path, ca_cert_path, root_path, out, count = sys.argv[1:6]
count = int(count)
ca_key = serialization.load_pem_private_key(open(ca_key_path, "rb").read(), password=None)
ca_pem = open(ca_cert_path, "rb").read()
ca_cert = x509.load_pem_x509_certificate(ca_pem)
root_pem = open(root_path, "rb").read()
ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
os.makedirs(out, exist_ok=True)
start = time.perf_counter()
for i in range(count):
    thing = f"dev-{i}"
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "iotca"),
                                     x509.NameAttribute(NameOID.COMMON_NAME, thing)]))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(f"urn:iotca:thing:{thing}")]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    folder = os.path.join(out, thing)
    os.mkdir(folder)
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    with open(os.path.join(folder, "cert.pem"), "wb") as f: f.write(cert_pem)
    fd = os.open(os.path.join(folder, "key.pem"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    os.close(fd)
    with open(os.path.join(folder, "chain.pem"), "wb") as f: f.write(ca_pem)
    with open(os.path.join(folder, "root.pem"), "wb") as f: f.write(root_pem)
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump({"thing": thing, "serial": format(cert.serial_number, "x"),
                   "certificate_sha256": cert.fingerprint(hashes.SHA256()).hex()}, f)
os.sync()
print(f"{time.perf_counter() - start:.3f}")
