#!/usr/bin/env python3
"""Small, dependency-free helper for gettext .po catalogues.

Usage:
    python scripts/po_fill.py check PATH.po
        List untranslated entries, fuzzy entries and placeholder mismatches
        between msgid/msgid_plural and msgstr; exit 1 if there are any.

    python scripts/po_fill.py fill PATH.po TRANSLATIONS.json
        Fill empty msgstr / msgstr[0] entries from a JSON object mapping
        msgid -> translation, drop "fuzzy" flags from filled entries, and
        rewrite the file.  Existing translations are left alone.

Placeholders compared: Python %-format (%(name)s, %s, %d, ...), and the
Django template forms {{ name }} / {name}.  "%%" is ignored.
"""
import json
import re
import sys
from collections import Counter

PLACEHOLDER_RE = re.compile(
    r"%\([A-Za-z_][A-Za-z0-9_]*\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]"  # %(name)s
    r"|%[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]"                          # %s %d
    r"|\{\{\s*[^{}]+?\s*\}\}"                                            # {{ name }}
    r"|\{[A-Za-z_][A-Za-z0-9_]*\}"                                       # {name}
)


def placeholders(text):
    text = text.replace("%%", "")
    return Counter(re.sub(r"\s+", "", m) for m in PLACEHOLDER_RE.findall(text))


def unquote(s):
    s = s.strip()
    if not (s.startswith('"') and s.endswith('"')):
        raise ValueError("bad string literal: %r" % s)
    s = s[1:-1]
    out, i = [], 0
    esc = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            out.append(esc.get(s[i + 1], "\\" + s[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


class Entry:
    def __init__(self):
        self.lines = []        # raw lines, including comments
        self.flags = set()
        self.fields = {}       # key -> value; keys: msgctxt msgid msgid_plural msgstr msgstr[N]
        self.lineno = 0
        self.obsolete = False

    @property
    def is_header(self):
        return self.fields.get("msgid") == "" and "msgctxt" not in self.fields

    def msgstrs(self):
        return {k: v for k, v in self.fields.items() if k.startswith("msgstr")}


FIELD_RE = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")\s*$')


def parse(text):
    entries, cur, last = [], Entry(), None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip("\n")
        if not line.strip():
            if cur.lines:
                entries.append(cur)
            cur, last = Entry(), None
            continue
        if not cur.lines:
            cur.lineno = n
        cur.lines.append(line)
        if line.startswith("#~"):
            cur.obsolete = True
            continue
        if line.startswith("#,"):
            cur.flags.update(f.strip() for f in line[2:].split(",") if f.strip())
            continue
        if line.startswith("#"):
            continue
        m = FIELD_RE.match(line)
        if m:
            last = m.group(1)
            cur.fields[last] = unquote(m.group(2))
        elif line.startswith('"') and last:
            cur.fields[last] += unquote(line)
        else:
            raise ValueError("line %d: cannot parse %r" % (n, line))
    if cur.lines:
        entries.append(cur)
    return entries


def check(path):
    with open(path, encoding="utf-8") as fh:
        entries = parse(fh.read())
    problems = []
    count = 0
    for e in entries:
        if e.obsolete or "msgid" not in e.fields:
            continue
        where = "%s:%d" % (path, e.lineno)
        if "fuzzy" in e.flags:
            problems.append("%s: fuzzy: %r" % (where, e.fields["msgid"]))
        if e.is_header:
            continue
        count += 1
        msgid = e.fields["msgid"]
        strs = e.msgstrs()
        if not strs or any(v == "" for v in strs.values()):
            problems.append("%s: untranslated: %r" % (where, msgid))
            continue
        if "msgid_plural" in e.fields:
            # Translations may drop the placeholder in singular forms of
            # some languages, but must never introduce unknown ones.
            allowed = placeholders(msgid) | placeholders(e.fields["msgid_plural"])
            for key, val in sorted(strs.items()):
                got = placeholders(val)
                extra = set(got) - set(allowed)
                missing = set(placeholders(e.fields["msgid_plural"])) - set(got)
                if extra or missing:
                    problems.append("%s: placeholder mismatch in %s for %r: expected %s, got %s"
                                    % (where, key, msgid, sorted(allowed), sorted(got)))
        else:
            want = placeholders(msgid)
            got = placeholders(strs.get("msgstr", ""))
            if want != got:
                problems.append("%s: placeholder mismatch for %r: expected %s, got %s"
                                % (where, msgid, sorted(want.elements()), sorted(got.elements())))
    for p in problems:
        print(p)
    print("%d entries checked, %d problem(s)" % (count, len(problems)))
    return 1 if problems else 0


def fill(path, json_path):
    with open(json_path, encoding="utf-8") as fh:
        table = json.load(fh)
    with open(path, encoding="utf-8") as fh:
        entries = parse(fh.read())
    out, filled, missing = [], 0, []
    for e in entries:
        lines = e.lines
        msgid = e.fields.get("msgid")
        if not e.obsolete and msgid and msgid in table:
            strs = e.msgstrs()
            if not strs or any(v == "" for v in strs.values()):
                tr = table[msgid]
                keep = [l for l in lines if not FIELD_RE.match(l) and not l.startswith('"')]
                keep = [l for l in keep if not l.startswith("#,")]
                flags = sorted(e.flags - {"fuzzy"})
                if flags:
                    keep.append("#, " + ", ".join(flags))
                if "msgctxt" in e.fields:
                    keep.append("msgctxt " + quote(e.fields["msgctxt"]))
                keep.append("msgid " + quote(msgid))
                if "msgid_plural" in e.fields:
                    keep.append("msgid_plural " + quote(e.fields["msgid_plural"]))
                    keep.append("msgstr[0] " + quote(tr))
                else:
                    keep.append("msgstr " + quote(tr))
                lines = keep
                filled += 1
        elif not e.obsolete and msgid and not e.is_header and any(v == "" for v in e.msgstrs().values()):
            missing.append(msgid)
        out.append("\n".join(lines))
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n\n".join(out) + "\n")
    print("filled %d entries" % filled)
    for m in missing:
        print("no translation for: %r" % m)
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "check":
        return check(argv[2])
    if len(argv) == 4 and argv[1] == "fill":
        return fill(argv[2], argv[3])
    print(__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
