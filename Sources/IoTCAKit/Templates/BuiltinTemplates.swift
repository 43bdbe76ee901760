/// The built-in templates, byte for byte the files in the repository's `templates/` folder
/// (a test keeps them equal), compiled in so the binary works from any directory.
/// Generated from templates/*.json; edit those and copy them here.
enum BuiltinTemplates {
    static let sources: [String: String] = [
        "api-server": #"""
{
  "name": "api-server",
  "description": "TLS server certificate of iotca serve's API; issued by the service CA alone, which clients of the API trust.",
  "keyType": "ec-p256",
  "validity": "90d",
  "subject": {
    "commonName": "{{thing}}",
    "organization": "{{org}}",
    "organizationalUnit": "iotca API"
  },
  "subjectAltNames": ["dns:{{thing}}"],
  "keyUsage": ["digitalSignature"],
  "extendedKeyUsage": ["serverAuth"],
  "ca": false
}
"""#,
        "device": #"""
{
  "name": "device",
  "description": "TLS client certificate for a device (MQTT over mutual TLS, AWS IoT Core).",
  "keyType": "ec-p256",
  "validity": "365d",
  "subject": {
    "commonName": "{{thing}}",
    "organization": "{{org}}"
  },
  "subjectAltNames": ["uri:https://iotca.invalid/things/{{thing}}"],
  "keyUsage": ["digitalSignature"],
  "extendedKeyUsage": ["clientAuth"],
  "ca": false
}
"""#,
        "server": #"""
{
  "name": "server",
  "description": "TLS server certificate for a broker or gateway; the thing name is its DNS name.",
  "keyType": "ec-p256",
  "validity": "365d",
  "subject": {
    "commonName": "{{thing}}",
    "organization": "{{org}}"
  },
  "subjectAltNames": ["dns:{{thing}}"],
  "keyUsage": ["digitalSignature"],
  "extendedKeyUsage": ["serverAuth"],
  "ca": false,
  "nextKey": true
}
"""#,
        "station": #"""
{
  "name": "station",
  "description": "TLS client certificate of a factory station calling iotca serve; may issue within its grants.",
  "keyType": "ec-p256",
  "validity": "365d",
  "subject": {
    "commonName": "{{thing}}",
    "organization": "{{org}}",
    "organizationalUnit": "stations"
  },
  "subjectAltNames": ["uri:https://iotca.invalid/stations/{{thing}}"],
  "keyUsage": ["digitalSignature"],
  "extendedKeyUsage": ["clientAuth"],
  "ca": false
}
"""#,
        "claim": #"""
{
  "name": "claim",
  "description": "Claim certificate a manufacturer puts on many devices: may only enrol them over EST, for the thing names its grants cover.",
  "keyType": "ec-p256",
  "validity": "365d",
  "subject": {
    "commonName": "{{thing}}",
    "organization": "{{org}}",
    "organizationalUnit": "claims"
  },
  "subjectAltNames": ["uri:https://iotca.invalid/claims/{{thing}}"],
  "keyUsage": ["digitalSignature"],
  "extendedKeyUsage": ["clientAuth"],
  "ca": false
}
"""#,
        "operator": #"""
{
  "name": "operator",
  "description": "TLS client certificate of an operator calling iotca serve; may issue, revoke, publish and read the audit.",
  "keyType": "ec-p256",
  "validity": "90d",
  "subject": {
    "commonName": "{{thing}}",
    "organization": "{{org}}",
    "organizationalUnit": "operators"
  },
  "subjectAltNames": ["uri:https://iotca.invalid/operators/{{thing}}"],
  "keyUsage": ["digitalSignature"],
  "extendedKeyUsage": ["clientAuth"],
  "ca": false
}
"""#,
        "subordinate-ca": #"""
{
  "name": "subordinate-ca",
  "description": "Issuing CA below a root; pathLength 0 lets it sign only end-entity certificates.",
  "keyType": "ec-p256",
  "validity": "10y",
  "subject": {
    "commonName": "{{org}} {{thing}} CA",
    "organization": "{{org}}"
  },
  "keyUsage": ["digitalSignature", "keyCertSign", "cRLSign"],
  "ca": true,
  "pathLength": 0
}
"""#,
        "root-ca": #"""
{
  "name": "root-ca",
  "description": "Self-signed root CA; keep it offline or rarely used, it only signs issuing CAs and CRLs.",
  "keyType": "ec-p256",
  "validity": "20y",
  "subject": {
    "commonName": "{{org}} {{thing}} CA",
    "organization": "{{org}}"
  },
  "keyUsage": ["keyCertSign", "cRLSign"],
  "ca": true
}
"""#,
        "matter-paa": #"""
{
  "name": "matter-paa",
  "description": "Matter Product Attestation Authority (PAA): the self-signed root of a vendor's device attestation PKI; its subject carries the vendor ID when one is given (vid).",
  "keyType": "ec-p256",
  "allowedKeyTypes": ["ec-p256"],
  "validity": "forever",
  "subject": {
    "commonName": "{{org}} PAA"
  },
  "keyUsage": ["keyCertSign", "cRLSign"],
  "ca": true,
  "pathLength": 1,
  "matter": "paa"
}
"""#,
        "matter-pai": #"""
{
  "name": "matter-pai",
  "description": "Matter Product Attestation Intermediate (PAI): the CA of a factory line, under a PAA; its subject carries the vendor ID (vid) and, for a PAI limited to one product, the product ID (pid).",
  "keyType": "ec-p256",
  "allowedKeyTypes": ["ec-p256"],
  "validity": "forever",
  "subject": {
    "commonName": "{{org}} PAI {{thing}}"
  },
  "keyUsage": ["digitalSignature", "keyCertSign", "cRLSign"],
  "ca": true,
  "pathLength": 0,
  "matter": "pai"
}
"""#,
        "matter-dac": #"""
{
  "name": "matter-dac",
  "description": "Matter Device Attestation Certificate (DAC), one per device, from a PAI: the PAI's vendor ID and the product ID (pid, or the PAI's) in the subject, no well-defined expiration.",
  "keyType": "ec-p256",
  "allowedKeyTypes": ["ec-p256"],
  "validity": "forever",
  "subject": {
    "commonName": "{{thing}}"
  },
  "keyUsage": ["digitalSignature"],
  "ca": false,
  "matter": "dac"
}
"""#,
    ]
}
