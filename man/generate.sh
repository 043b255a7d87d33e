#!/usr/bin/env bash
# Regenerate the man page from the same build_parser() the command uses:
#   bash man/generate.sh            (writes man/taskclf.1)
#   bash man/generate.sh OUT_FILE   (writes OUT_FILE; tests use this to check for drift)
# Runs $PYTHON (default python3), which needs taskclf and argparse-manpage (installed by the test extras: pip install -e ".[test]").
# The date in the .TH line is pinned with SOURCE_DATE_EPOCH so the output does not
# change from one day to the next; bump it when the command line changes.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-man/taskclf.1}
python=${PYTHON:-python3}
version=$("$python" -c 'import taskclf; print(taskclf.__version__)')
# argparse-manpage leaves out subcommand epilogs: the EXAMPLES section comes from
# man/examples.py, which reads each command's examples from the same parser.
include=$(mktemp)
trap 'rm -f "$include"' EXIT
"$python" man/examples.py > "$include"
SOURCE_DATE_EPOCH=1796083200 "$python" -c "from argparse_manpage.cli import main; main()" \
  --include "$include" \
  --module taskclf.cli.main --function build_parser \
  --project-name taskclf --prog taskclf --version "$version" \
  --description "validate and manage the taskclf inference policy" \
  --manual-title "taskclf manual" \
  --output "$out"
