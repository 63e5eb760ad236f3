#!/usr/bin/env python3
"""Compares the wire-relevant shape of two proto2 files.

Usage: proto_field_diff.py OURS.proto THEIRS.proto

For every message it collects (message, field name, field number, label, type, packed)
and prints each tuple present on only one side. Exits 0 when both files describe the
same messages and fields, 1 otherwise. Comments, ordering, package, options and
`reserved` statements are ignored because they do not change the bytes on the wire.

Only the proto2 subset that FlussApi.proto uses is understood: top-level messages with
scalar or message fields (no nested messages, enums, oneofs, maps or groups). Anything
else is reported as an error instead of being skipped silently.
"""

import re
import sys

FIELD_RE = re.compile(
    r"^(required|optional|repeated)\s+([A-Za-z_][\w.]*)\s+([A-Za-z_]\w*)\s*=\s*(\d+)"
    r"\s*(\[[^\]]*\])?\s*$")


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def parse(path):
    """Returns {message: {(name, number, label, type, packed)}} for the file at path."""
    with open(path, encoding="utf-8") as f:
        text = strip_comments(f.read())
    messages = {}
    # Statements end at ';', '{' or '}'; keep the delimiters as tokens.
    tokens = [t.strip() for t in re.split(r"([;{}])", text) if t.strip()]
    current = None
    pending = None
    for tok in tokens:
        if tok == "{":
            if pending is None:
                raise SystemExit(f"{path}: unexpected '{{'")
            kind, name = pending
            if kind != "message" or current is not None:
                raise SystemExit(f"{path}: unsupported construct '{kind} {name}'")
            if name in messages:
                raise SystemExit(f"{path}: message {name} defined twice")
            current = name
            messages[name] = set()
            pending = None
        elif tok == "}":
            if current is None:
                raise SystemExit(f"{path}: unbalanced '}}'")
            current = None
        elif tok == ";":
            continue
        else:
            m = re.match(r"^(message|enum|service|oneof|extend)\s+(\w+)$", tok)
            if m:
                pending = (m.group(1), m.group(2))
                continue
            if current is None:
                # File-level statements: syntax, package, option, import.
                if not re.match(r"^(syntax|package|option|import)\b", tok):
                    raise SystemExit(f"{path}: unexpected top-level statement '{tok}'")
                continue
            if re.match(r"^(reserved|option)\b", tok):
                continue
            fm = FIELD_RE.match(" ".join(tok.split()))
            if not fm:
                raise SystemExit(f"{path}: cannot parse field '{tok}' in {current}")
            label, ftype, fname, number, opts = fm.groups()
            packed = bool(opts and re.search(r"packed\s*=\s*true", opts))
            if opts and re.search(r"\bdefault\s*=", opts):
                raise SystemExit(f"{path}: default values are not allowed ({current}.{fname})")
            messages[current].add((fname, int(number), label, ftype, packed))
    if current is not None:
        raise SystemExit(f"{path}: message {current} is not closed")
    return messages


def flatten(messages):
    return {(msg,) + field for msg, fields in messages.items() for field in fields}


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    ours, theirs = parse(argv[1]), parse(argv[2])
    a, b = flatten(ours), flatten(theirs)
    only_ours = sorted(a - b)
    only_theirs = sorted(b - a)
    missing_msgs = sorted(set(theirs) - set(ours))
    extra_msgs = sorted(set(ours) - set(theirs))
    for m in missing_msgs:
        print(f"message missing from {argv[1]}: {m}")
    for m in extra_msgs:
        print(f"message only in {argv[1]}: {m}")
    for t in only_ours:
        print(f"only in {argv[1]}: {t}")
    for t in only_theirs:
        print(f"only in {argv[2]}: {t}")
    ok = not (only_ours or only_theirs or missing_msgs or extra_msgs)
    print(f"{len(ours)} messages, {len(a)} fields in {argv[1]}; "
          f"{len(theirs)} messages, {len(b)} fields in {argv[2]}: "
          f"{'identical' if ok else 'DIFFERENT'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
