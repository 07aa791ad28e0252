#!/usr/bin/env python3
"""Look for secrets in files (tests/integration/test_no_secret_in_logs.sh).

usage: secret_grep.py SECRETS [--codes CODES] FILE... [--no-invite FILE...]

SECRETS: lines "LABEL HEX" (tests/tools/secrets). CODES: one invitation code
per line. Every FILE is searched for every secret in these forms: raw bytes,
hex (lower and upper), base64 (standard and URL-safe, with and without
padding), base32 (RFC 4648, upper and lower, without padding); and for every
8-byte window of a secret as raw bytes and hex, so a truncated key is caught
too (not for labels ending in _full, which end in public bytes). Invitation codes are searched as typed (with dashes) and without their
separators. Files after --no-invite are the outputs of `tocsin invite`,
whose job is to print the code: invite secrets and codes are not searched
there, everything else is. Prints each hit; exit 1 if any, 0 if none.
"""
import base64
import sys


def forms(b, full_only=False):
    out = {
        "raw": b,
        "hex": b.hex().encode(),
        "HEX": b.hex().upper().encode(),
    }
    b64 = base64.b64encode(b)
    u64 = base64.urlsafe_b64encode(b)
    out["base64"] = b64
    out["base64_nopad"] = b64.rstrip(b"=")
    out["base64url"] = u64
    out["base64url_nopad"] = u64.rstrip(b"=")
    b32 = base64.b32encode(b).rstrip(b"=")
    out["base32"] = b32
    out["base32_lower"] = b32.lower()
    if full_only:
        return out
    for i in range(0, len(b) - 8 + 1):
        w = b[i:i + 8]
        out["raw_window@%d" % i] = w
        out["hex_window@%d" % i] = w.hex().encode()
        out["HEX_window@%d" % i] = w.hex().upper().encode()
    return out


def main(argv):
    secrets_file = argv[1]
    rest = argv[2:]
    codes = []
    if rest[:1] == ["--codes"]:
        codes = [l.strip() for l in open(rest[1]) if l.strip()]
        rest = rest[2:]
    files, no_invite, target = [], [], None
    target = files
    for a in rest:
        if a == "--no-invite":
            target = no_invite
            continue
        target.append(a)
    needles = []  # (label, form, bytes, is_invite)
    nsecrets = 0
    for line in open(secrets_file):
        line = line.strip()
        if not line:
            continue
        label, hx = line.split()
        inv = "invite" in label
        nsecrets += 1
        for f, v in forms(bytes.fromhex(hx), label.endswith("_full")).items():
            needles.append((label, f, v, inv))
    for c in codes:
        needles.append(("invite_code", "as printed", c.encode(), True))
        needles.append(("invite_code", "no separators",
                        c.replace("-", "").replace(" ", "").encode(), True))
    hits = 0
    for path, skip_invite in [(p, False) for p in files] + [(p, True) for p in no_invite]:
        data = open(path, "rb").read()
        for label, form, v, inv in needles:
            if skip_invite and inv:
                continue
            if v and v in data:
                print("LEAK: %s (%s) in %s" % (label, form, path))
                hits += 1
    print("# %d secrets (%d needles) in %d files: %d hits"
          % (nsecrets + len(codes), len(needles), len(files) + len(no_invite), hits))
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
