#!/usr/bin/env bash
# Build the core (notebooks import it from dist/), register the tslab kernel with the
# Jupyter that is installed, and open the notebooks folder.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build
if ! command -v jupyter >/dev/null 2>&1; then
  echo "jupyter not found: 'conda env create -f environment.yml' (then 'conda activate selfdpo-lab')," >&2
  echo "or on Debian/Ubuntu: apt-get install -y jupyter-notebook python3-nbconvert python3-ipykernel" >&2
  exit 1
fi
# tslab registers itself with the python that owns jupyter (a pyenv shim may have none).
python=$(head -1 "$(command -v jupyter)" | sed -n 's/^#!\s*//p' | awk '{print $1}')
node_modules/.bin/tslab install --python="${python:-python3}" --binary="$(pwd)/node_modules/.bin/tslab"
exec jupyter notebook --notebook-dir=notebooks "$@"
