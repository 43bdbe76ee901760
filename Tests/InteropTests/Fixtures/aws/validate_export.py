#!/usr/bin/python3
"""Judges an `iotca aws export` folder with AWS's own API model (botocore, Debian's
python3-botocore): each file is mapped to its operation's input shape as the AWS CLI maps
--cli-input-json, checked by botocore's ParamValidator (types, required members, minimum
lengths), then by the model's `max`, `pattern` and `enum` traits, which ParamValidator leaves
to the service. Then the templates: every Ref resolves, JITP parameters are AWS's, and each
NDJSON line supplies every parameter the bulk template declares.
usage: validate_export.py DIR   (prints "ok" and exits 0, or prints the problems and exits 1)"""
import glob, json, os, re, sys
import botocore.session
from botocore.validate import ParamValidator

JITP = {"AWS::IoT::Certificate::" + name for name in
        ("CommonName", "Organization", "OrganizationalUnit", "Country", "StateName",
         "DistinguishedNameQualifier", "SerialNumber", "Id")}

model = botocore.session.get_session().get_service_model("iot")
problems = []


def traits(value, shape, where):
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            if name in value:
                traits(value[name], member, where + "." + name)
        for name in value:
            if name not in shape.members:
                problems.append(f"{where}: unknown member {name}")
    elif shape.type_name == "string":
        meta = shape.metadata
        if "max" in meta and len(value) > meta["max"]:
            problems.append(f"{where}: {len(value)} characters, max {meta['max']}")
        if "pattern" in meta and not re.fullmatch(meta["pattern"], value):
            problems.append(f"{where}: does not match {meta['pattern']}")
        if shape.enum and value not in shape.enum:
            problems.append(f"{where}: {value} not in {shape.enum}")


def check(operation, params, where):
    shape = model.operation_model(operation).input_shape
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        problems.append(f"{where}: {report.generate_report()}")
    traits(params, shape, where)


def refs(node, found):
    if isinstance(node, dict):
        if set(node) == {"Ref"}:
            found.add(node["Ref"])
        for value in node.values():
            refs(value, found)
    return found


def template(body, where, allowed=None):
    document = json.loads(body)
    declared = set(document.get("Parameters", {}))
    for ref in refs(document.get("Resources", {}), set()):
        if ref not in declared:
            problems.append(f"{where}: Ref {ref} is not a declared parameter")
    if allowed is not None and not declared <= allowed:
        problems.append(f"{where}: parameters {sorted(declared - allowed)} are not JITP parameters")
    return declared


folder = sys.argv[1]
ca_file = os.path.join(folder, "register-ca-certificate.json")
if os.path.exists(ca_file):
    params = json.load(open(ca_file))
    check("RegisterCACertificate", params, "register-ca-certificate.json")
    config = params.get("registrationConfig")
    if config:
        declared = template(config["templateBody"], "JITP templateBody", JITP)
        print("jitp-parameters " + " ".join(sorted(declared)))
for path in sorted(glob.glob(os.path.join(folder, "register-certificate", "*.json"))):
    check("RegisterCertificate", json.load(open(path)), os.path.relpath(path, folder))
for path in sorted(glob.glob(os.path.join(folder, "revocations", "*.json"))):
    check("UpdateCertificate", json.load(open(path)), os.path.relpath(path, folder))
bulk = os.path.join(folder, "bulk", "provisioning-template.json")
if os.path.exists(bulk):
    body = open(bulk).read()
    check("StartThingRegistrationTask", {"templateBody": body, "inputFileBucket": "iotca-bulk",
          "inputFileKey": "things.ndjson", "roleArn": "arn:aws:iam::123456789012:role/Bulk"}, "bulk")
    declared = template(body, "bulk template")
    for number, line in enumerate(open(os.path.join(folder, "bulk", "things.ndjson")), 1):
        values = json.loads(line)
        if set(values) != declared:
            problems.append(f"things.ndjson line {number}: gives {sorted(values)}, the template declares {sorted(declared)}")
        check("RegisterCertificate", {"certificatePem": values.get("CertificatePem", "")}, f"things.ndjson line {number}")
if problems:
    print("\n".join(problems))
    sys.exit(1)
print("ok")
