#!/usr/bin/env bash
# Host check: install the package the way a host does and use it without this repository.
#
# Builds the sdist and the wheel from a copy of the working tree (tracked and untracked, not ignored files),
# checks that every non-Python file of the four apps is in both, installs the wheel into a fresh virtualenv
# outside the repository, and runs the minimal host project in .ci/hostproject/ from a temporary directory:
# migrate, check, one sandbox per platform started with `python -m` from the installed package, one invoice
# synced to each and read back, every admin page and the mapping editor rendered as a superuser.
# Fails on the first problem; pip's output must carry no warning about our metadata.
#
#   .ci/host_check.sh                        (make host-check)
#   PYTHON=python3.13 .ci/host_check.sh       (the host on another Python)
# PY builds (default .venv/bin/python; uses `build` when installed, else `pip wheel`); PYTHON makes the host's
# virtualenv (default python3). KEEP=1 keeps the temporary directory for a look afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
PY="${PY:-$repo/.venv/bin/python}"
PYTHON="${PYTHON:-python3}"
started=$SECONDS

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ "${KEEP:-}" == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
export PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
unset PYTHONPATH DJANGO_SETTINGS_MODULE VIRTUAL_ENV

die() { echo "HOST CHECK FAILED: $*" >&2; exit 1; }

# Lines of pip or setuptools output that warn about something; pip's notes about the machine's own index
# configuration (a configured location that does not exist) are not about our package.
warnings_in() {
  grep -iE 'warn|deprecat' "$1" | grep -vE "^WARNING: Location '[^']*' is ignored" || true
}

echo "-- build from the working tree"
mkdir "$work/src"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  if [[ -e "$f" ]]; then printf '%s\0' "$f"; fi  # skip tracked files deleted here
done | tar -cf - --null -T - | tar -xf - -C "$work/src"
rm -rf "$work/src/dist"
# The steps below are those docs/host-integration.md opens with. Build without PYTHONDONTWRITEBYTECODE, which
# makes setuptools warn that it cannot byte-compile.
if "$PY" -c "import build" 2>/dev/null; then
  # The sdist first, then the wheel from the unpacked sdist: a file the sdist lacks is missing from the wheel.
  build=(-m build)
else
  echo "(the build package is not installed: the wheel only, with pip wheel)"
  build=(-m pip wheel --no-deps --wheel-dir dist .)
fi
(cd "$work/src" && env -u PYTHONDONTWRITEBYTECODE "$PY" "${build[@]}") >"$work/build.log" 2>&1 \
  || { cat "$work/build.log"; die "build"; }
found="$(warnings_in "$work/build.log")"
[[ -z "$found" ]] || { echo "$found"; die "the build warns (above)"; }
wheel="$(ls "$work"/src/dist/*.whl)"
echo "$(basename "$wheel") $(ls "$work"/src/dist/*.tar.gz 2>/dev/null | xargs -r -n1 basename)"

echo "-- every non-Python file of the apps is packaged; the metadata"
"$PY" - "$work/src" "$work/src/dist" <<'EOF'
import re
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

src, dist = Path(sys.argv[1]), Path(sys.argv[2])
apps = ("accounting_sync", "connectors", "mappings", "ledger")
wanted = sorted(str(p.relative_to(src)) for app in apps for p in (src / app).rglob("*")
                if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts)
wheel = next(dist.glob("*.whl"))
names = set(zipfile.ZipFile(wheel).namelist())
tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
problems = [f"wheel lacks {f}" for f in wanted if f not in names]
if tops != set(apps):
    problems.append(f"wheel's top-level packages are {sorted(tops)}, expected {sorted(apps)}")
for sdist in dist.glob("*.tar.gz"):
    with tarfile.open(sdist) as tar:
        members = {m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name}
    problems += [f"sdist lacks {f}" for f in wanted if f not in members]
    problems += [f"sdist lacks {f}" for f in ("CHANGELOG.md", "LICENSE") if f not in members]
# The metadata a host (and an index) reads: SPDX licence with its file, no test-only runtime dependency.
info = next(n for n in names if n.endswith(".dist-info/METADATA"))
meta = Parser().parsestr(zipfile.ZipFile(wheel).read(info).decode())
if meta.get("License-Expression") != "MIT" or "LICENSE" not in (meta.get_all("License-File") or []):
    problems.append("METADATA lacks License-Expression: MIT and License-File: LICENSE")
if meta.get("License"):
    problems.append("METADATA still has the legacy License field")
if "Framework :: Django :: 5.2" not in (meta.get_all("Classifier") or []):
    problems.append("METADATA lacks the classifier Framework :: Django :: 5.2")
requires = meta.get_all("Requires-Dist") or []

def project(requirement):
    return re.split(r"[\s\[<>=!~;(]", requirement, maxsplit=1)[0].lower().replace("_", "-")


runtime = {project(r) for r in requires if "extra ==" not in r}
both = runtime & {project(r) for r in requires if re.search(r"extra == .test.", r)}
if both:
    problems.append(f"test packages among the runtime dependencies: {sorted(both)}")
if problems:
    sys.exit("HOST CHECK FAILED:\n  " + "\n  ".join(problems))
print(f"{len(wanted)} non-Python files in the wheel" + (" and the sdist" if list(dist.glob("*.tar.gz")) else "")
      + f"; metadata: MIT, {len(runtime)} runtime dependencies, none of them a test package")
EOF

echo "-- fresh virtualenv, pip install the wheel"
(cd "$work" && "$PYTHON" -m venv venv)
hpy="$work/venv/bin/python"
"$hpy" -m pip install "$wheel[postgres,redis]" >"$work/install.log" 2>&1 \
  || { cat "$work/install.log"; die "pip install"; }
found="$(warnings_in "$work/install.log")"
[[ -z "$found" ]] || { echo "$found"; die "pip install warns (above)"; }
tail -n 1 "$work/install.log"

echo "-- the host project: migrate, check"
cp -R .ci/hostproject "$work/host"
cd "$work/host"
export DJANGO_SETTINGS_MODULE=hostsite.settings
HOST_SECRET_KEY="$("$hpy" -c 'import secrets; print(secrets.token_urlsafe(50))')"
ACCOUNTING_SYNC_ENCRYPTION_KEYS="$("$hpy" -c \
  'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
export HOST_SECRET_KEY ACCOUNTING_SYNC_ENCRYPTION_KEYS
"$hpy" manage.py migrate --noinput >"$work/migrate.log" || { cat "$work/migrate.log"; die "migrate"; }
"$hpy" manage.py check --fail-level WARNING
"$hpy" manage.py collectstatic --noinput -v 0

echo "-- sandboxes from the installed package"
# Each registered platform's sandbox as a host developer starts it: python -m <its package> --port N.
"$hpy" smoke.py platforms >"$work/platforms.txt" || die "listing the registered platforms and their sandboxes"
pairs=()
while read -r platform module ready_path; do
  log="$work/sandbox-$platform.log"
  port="$("$hpy" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  "$hpy" -m "$module" --port "$port" </dev/null >"$log" 2>&1 &
  pids+=($!)
  url="http://127.0.0.1:$port"
  "$hpy" smoke.py wait "$url$ready_path" "${pids[-1]}" || { cat "$log"; die "python -m $module --port $port"; }
  echo "python -m $module --port $port: up"
  pairs+=("$platform=$url")
done <"$work/platforms.txt"
[[ ${#pairs[@]} -gt 0 ]] || die "no platform registered"

echo "-- sync one invoice through the installed code"
"$hpy" smoke.py sync "${pairs[@]}"

echo "-- admin pages and the mapping editor"
"$hpy" smoke.py render

echo "host check passed in $((SECONDS - started)) s"
