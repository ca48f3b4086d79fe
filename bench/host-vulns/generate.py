#!/usr/bin/env python3
"""Generates the host-vulnerability benchmark: a Debian 12 root whose dpkg status lists
PACKAGES packages (from SOURCES source packages, versions in Debian's style) and an OSV archive
(a zip, like osv.dev's per-ecosystem all.zip) of RECORDS records in the real schema: DSA/DLA and
DEBIAN-CVE style ids, CVE aliases, ECOSYSTEM ranges (introduced/fixed, some unfixed, some
last_affected), some `versions` lists, CVSS v3.1 vectors on a part, Debian urgencies on
another, a few other releases and unknown fields. Deterministic (seeded).

usage: generate.py OUT_DIR [RECORDS [PACKAGES]]
       SOURCES_FROM=/var/lib/dpkg/status generate.py OUT_DIR   (records name that host's sources)
"""
import json
import os
import random
import sys
import zipfile
from pathlib import Path

out = Path(sys.argv[1])
records = int(sys.argv[2]) if len(sys.argv) > 2 else 120_000
packages = int(sys.argv[3]) if len(sys.argv) > 3 else 1_500
rng = random.Random(17)
sources = [f"src{index:05d}" for index in range(max(packages // 2, 1))]
# SOURCES_FROM=/var/lib/dpkg/status: the records name that host's real source packages instead
# (the agent benchmark runs on this machine, so its vulns module keeps what a real host would).
if os.environ.get("SOURCES_FROM"):
    named = set()
    for paragraph in Path(os.environ["SOURCES_FROM"]).read_text(errors="replace").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in paragraph.splitlines() if ": " in line and not line.startswith(" "))
        if "Package" in fields:
            named.add(fields.get("Source", fields["Package"]).split(" ")[0])
    sources = sorted(named)


def version(rng):
    upstream = ".".join(str(rng.randrange(0, 20)) for _ in range(rng.randrange(1, 4)))
    tail = rng.choice(["", "~deb12u1", "~deb12u3", "+deb12u2", "+dfsg"])
    epoch = rng.choice(["", "", "", "1:"])
    return f"{epoch}{upstream}-{rng.randrange(1, 9)}{tail}"


root = out / "root"
(root / "etc").mkdir(parents=True, exist_ok=True)
(root / "var/lib/dpkg").mkdir(parents=True, exist_ok=True)
(root / "etc/os-release").write_text('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n')
installed = {}
with open(root / "var/lib/dpkg/status", "w") as status:
    for index in range(packages):
        source = sources[index % len(sources)]
        installed.setdefault(source, version(rng))
        status.write(
            f"Package: bin{index:05d}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\n"
            f"Source: {source}\nVersion: {installed[source]}\nDescription: generated package {index}\n\n"
        )

vectors = [
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N",
    "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N",
]
with zipfile.ZipFile(out / "osv-debian.zip", "w", zipfile.ZIP_DEFLATED) as archive:
    for index in range(records):
        # A fifth of the records name installed sources; the rest other packages.
        name = rng.choice(sources) if rng.random() < 0.2 else f"other{rng.randrange(50_000):05d}"
        release = rng.choice(["12", "12", "12", "12", "11", "10"])
        events = [{"introduced": "0"}]
        kind = rng.random()
        if kind < 0.8:
            events.append({"fixed": version(rng)})
        elif kind < 0.9:
            events.append({"last_affected": version(rng)})
        record = {
            "schema_version": "1.6.0",
            "id": rng.choice(["DSA", "DLA", "DEBIAN-CVE"]) + f"-{index:06d}",
            "modified": "2026-08-01T00:00:00Z",
            "published": "2026-01-01T00:00:00Z",
            "aliases": [f"CVE-2026-{index:05d}"],
            "summary": f"generated vulnerability {index}",
            "affected": [{"package": {"ecosystem": f"Debian:{release}", "name": name, "purl": f"pkg:deb/debian/{name}"}, "ranges": [{"type": "ECOSYSTEM", "events": events}]}],
            "references": [{"type": "ADVISORY", "url": f"https://security-tracker.debian.org/tracker/CVE-2026-{index:05d}"}],
        }
        if rng.random() < 0.3:
            record["severity"] = [{"type": "CVSS_V3", "score": rng.choice(vectors)}]
        else:
            record["affected"][0]["ecosystem_specific"] = {"urgency": rng.choice(["low", "medium", "high", "not yet assigned"])}
        if rng.random() < 0.05:
            record["affected"][0]["versions"] = [version(rng) for _ in range(3)]
        archive.writestr(f"{record['id']}.json", json.dumps(record))
print(f"{root} ({packages} packages), {out / 'osv-debian.zip'} ({records} records)")
