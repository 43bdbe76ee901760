#!/usr/bin/env python3
"""Renders `iotca --experimental-dump-help` (JSON on stdin) as docs/commands.md (stdout), or
with --man as the manual page docs/iotca.1.

The command reference is the code's own help text, so it cannot drift: `scripts/render-commands`
writes it, and DocumentationTests fails when the committed file differs from a fresh render.
"""
import json
import sys

HEADER = """# Command reference

Every command and option of `iotca`, rendered from the code's own help texts by
`scripts/render-commands` (swift-argument-parser's help dump). Edit the texts in `Sources/iotca`,
then run the script; a test fails when this file differs from a fresh render. What the commands
are for, with examples: the guides in this folder. Exit codes: the [README](../README.md#exit-codes).
"""


def cell(text):
    return (text or "").replace("|", "\\|").replace("\n", " ").strip()


def name(argument):
    names = argument.get("names") or []
    spelled = []
    for entry in names:
        prefix = "--" if entry["kind"] == "long" else ("-" if entry["kind"] in ("short", "longWithSingleDash") else "")
        spelled.append(prefix + entry["name"])
    if argument["kind"] == "positional":
        return argument.get("valueName", "").upper()
    text = ", ".join(spelled)
    if argument["kind"] == "option":
        text += " " + argument.get("valueName", "VALUE").upper()
    return text


def render(command, path, out):
    if not command.get("shouldDisplay", True):
        return
    full = " ".join(path)
    subcommands = command.get("subcommands") or []
    arguments = [a for a in command.get("arguments") or [] if a.get("shouldDisplay", True)
                 and not any(n["name"] in ("help", "version", "experimental-dump-help") for n in a.get("names") or [])]
    if len(path) > 1:
        out.append("")
        out.append("#" * min(len(path), 4) + " `" + full + "`")
        out.append("")
        if command.get("abstract"):
            out.append(command["abstract"].strip())
        if command.get("discussion"):
            out.append("")
            out.append(command["discussion"].strip())
        if arguments:
            out.append("")
            out.append("| argument or option | meaning | default |")
            out.append("|---|---|---|")
            for argument in arguments:
                spelled = name(argument)
                if argument.get("isRepeating"):
                    spelled += " ..."
                if argument.get("isOptional") and argument["kind"] == "positional":
                    spelled = "[" + spelled + "]"
                out.append("| `%s` | %s | %s |" % (cell(spelled), cell(argument.get("abstract")),
                                                  cell("`%s`" % argument["defaultValue"] if argument.get("defaultValue") not in (None, "") else "")))
        if subcommands:
            out.append("")
            out.append("Subcommands: " + ", ".join("`%s %s`" % (full, s["commandName"]) for s in subcommands
                                                  if s.get("shouldDisplay", True)) + ".")
    for sub in subcommands:
        render(sub, path + [sub["commandName"]], out)


def roff(text):
    text = (text or "").replace("\\", "\\e").replace("`", "")
    return "\n".join(("\\&" + line) if line.startswith((".", "'")) else line for line in text.split("\n"))


def render_man(command, path, out):
    if not command.get("shouldDisplay", True):
        return
    arguments = [a for a in command.get("arguments") or [] if a.get("shouldDisplay", True)
                 and not any(n["name"] in ("help", "version", "experimental-dump-help") for n in a.get("names") or [])]
    if len(path) > 1:
        out.append(".SS " + roff(" ".join(path[1:])))
        if command.get("abstract"):
            out.append(roff(command["abstract"].strip()))
        if command.get("discussion"):
            out.append(".PP")
            out.append(roff(command["discussion"].strip()))
        for argument in arguments:
            out.append(".TP")
            spelled = name(argument) + (" ..." if argument.get("isRepeating") else "")
            out.append(".B " + roff(spelled))
            default = argument.get("defaultValue")
            out.append(roff((argument.get("abstract") or "").strip() + (" (default: %s)" % default if default not in (None, "") else "")))
    for sub in command.get("subcommands") or []:
        render_man(sub, path + [sub["commandName"]], out)


def main():
    dump = json.load(sys.stdin)
    root = dump["command"]
    if "--man" in sys.argv[1:]:
        out = [".TH IOTCA 1 \"\" \"iotca\" \"iotca manual\"", ".SH NAME", "iotca \\- " + roff(root.get("abstract", "")),
               ".SH SYNOPSIS", ".B iotca", ".I COMMAND", "[options]", ".SH DESCRIPTION",
               roff("A private certificate authority and device-provisioning tool for IoT fleets. The guides are in the "
                    "docs/ folder of the source; every command prints its help with --help."),
               ".SH COMMANDS"]
        render_man(root, [root["commandName"]], out)
        out += [".SH EXIT STATUS", "0 success, 1 internal error, 3 store, 4 passphrase, 5 rejected by policy, 6 CA unavailable, "
                "7 conflict, 8 not found, 9 output, 10 forbidden, 64 usage.",
                ".SH ENVIRONMENT", "IOTCA_STORE, IOTCA_PASSPHRASE, IOTCA_PKCS11_PIN, IOTCA_NODE_DIR, IOTCA_SERVER, IOTCA_CLIENT_CERT, "
                "IOTCA_CLIENT_KEY, IOTCA_SERVER_CA, PGPASSWORD, PGPASSFILE."]
        sys.stdout.write("\n".join(out) + "\n")
        return
    out = [HEADER.rstrip("\n")]
    render(root, [root["commandName"]], out)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
