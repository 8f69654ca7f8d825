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

# The kit and every notebook's code cells (joined into one module per notebook, next to the
# notebooks so that their imports resolve) are typechecked against the built package's
# declarations: Deno's kernel runs cells without checking them. tsup's chunked .d.ts files import
# each other as .js, which Deno resolves only with sloppy imports.
if [ -f "$root/dist/index.d.ts" ]; then
  checks=("lib/ablation.ts")
  trap 'rm -rf "$work" "$here"/.typecheck_*.ts' EXIT
  for nb in "${notebooks[@]}"; do
    name="$(basename "$nb" .ipynb)"
    "$python" -c 'import sys, nbformat; nb = nbformat.read(sys.argv[1], as_version=4); open(sys.argv[2], "w").write("\n".join(c.source for c in nb.cells if c.cell_type == "code") + "\nexport {};\n")' "$nb" "$here/.typecheck_$name.ts"
    checks+=(".typecheck_$name.ts")
  done
  (cd "$here" && "$deno" check --quiet --unstable-sloppy-imports "${checks[@]}")
  rm -f "$here"/.typecheck_*.ts
else
  echo "run_all: dist/index.d.ts is missing (a build without declarations): the notebooks are not typechecked" >&2
fi

export JUPYTER_PATH="$work/jupyter" JUPYTER_DATA_DIR="$work/data" JUPYTER_RUNTIME_DIR="$work/runtime"
status=0
for nb in "${notebooks[@]}"; do
  "$python" "$here/run_notebook.py" "$nb" "$out/$(basename "$nb")" deno || status=1
done
exit "$status"
