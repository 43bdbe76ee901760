#!/usr/bin/env python3
"""Renders `iotca --experimental-dump-help` (JSON on stdin) as docs/commands.md (stdout).

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


def main():
    dump = json.load(sys.stdin)
    out = [HEADER.rstrip("\n")]
    render(dump["command"], [dump["command"]["commandName"]], out)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
