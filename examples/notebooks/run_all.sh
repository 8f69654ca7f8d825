#!/usr/bin/env bash
# Executes every ablation notebook headlessly with Deno's Jupyter kernel and fails if a cell fails.
#
#   bash examples/notebooks/run_all.sh [notebook.ipynb ...]   (default: all of them)
#
# Needs the built package (npm run build), the npm devDependency deno (node_modules/.bin/deno)
# and Python's nbclient + nbformat (Debian: python3-nbclient python3-jupyter-client python3-nbconvert).
# The kernelspec goes into a temporary JUPYTER_PATH, the executed copies into a temporary folder
# (NOTEBOOK_OUT=dir keeps them there instead): nothing in $HOME or in the committed notebooks changes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
deno="$root/node_modules/.bin/deno"

[ -x "$deno" ] || { echo "run_all: $deno is missing (npm install: deno is a devDependency)" >&2; exit 3; }
[ -f "$root/dist/index.js" ] || { echo "run_all: $root/dist/index.js is missing: run npm run build first" >&2; exit 3; }
python=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import nbclient, nbformat' 2>/dev/null; then python="$p"; break; fi
done
[ -n "$python" ] || { echo "run_all: no python3 with nbclient and nbformat (apt-get install python3-nbclient python3-jupyter-client python3-nbconvert)" >&2; exit 3; }

work="$(mktemp -d "${TMPDIR:-/tmp}/mst-notebooks.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/jupyter/kernels/deno"
cat >"$work/jupyter/kernels/deno/kernel.json" <<EOF
{"argv": ["$deno", "jupyter", "--kernel", "--conn", "{connection_file}"], "display_name": "Deno", "language": "typescript"}
EOF
out="${NOTEBOOK_OUT:-$work/out}"
mkdir -p "$out"
# Deno's caches (type information, transpiled cells) stay in the temporary folder too.
export DENO_DIR="$work/deno" NO_COLOR=1

if [ "$#" -gt 0 ]; then notebooks=("$@"); else notebooks=("$here"/*.ipynb); fi

# The kit and every notebook's code cells (joined into one module per notebook) are typechecked
# against the built package's declarations: Deno's kernel runs cells without checking them. The
# joined modules go to the repository's ignored tmp/, where 'mst-ts' still resolves. tsup's chunked
# .d.ts files import each other as .js, which Deno resolves only with sloppy imports.
if [ -f "$root/dist/index.d.ts" ]; then
  mkdir -p "$root/tmp"
  checkdir="$(mktemp -d "$root/tmp/notebook-typecheck.XXXXXX")"
  trap 'rm -rf "$work" "$checkdir"' EXIT
  checks=("$here/lib/ablation.ts")
  for nb in "${notebooks[@]}"; do
    module="$checkdir/$(basename "$nb" .ipynb).ts"
    "$python" - "$nb" "$module" "$here/lib/" <<'PY'
import sys, nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
code = "\n".join(c.source for c in nb.cells if c.cell_type == "code").replace("from './lib/", "from '" + sys.argv[3])
open(sys.argv[2], "w").write(code + "\nexport {};\n")
PY
    checks+=("$module")
  done
  (cd "$root" && "$deno" check --quiet --unstable-sloppy-imports "${checks[@]}")
else
  echo "run_all: dist/index.d.ts is missing (a build without declarations): the notebooks are not typechecked" >&2
fi

export JUPYTER_PATH="$work/jupyter" JUPYTER_DATA_DIR="$work/data" JUPYTER_RUNTIME_DIR="$work/runtime"
status=0
for nb in "${notebooks[@]}"; do
  "$python" "$here/run_notebook.py" "$nb" "$out/$(basename "$nb")" deno || status=1
done
exit "$status"
