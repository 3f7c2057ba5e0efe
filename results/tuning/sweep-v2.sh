#!/bin/sh
# Issue 19: the whole v2 tuning sweep (sweep-plan.md beside it), as it ran: `sh results/tuning/sweep-v2.sh` from the checkout.
# Resumable: rerun to continue; a finished setting is skipped (its run folder, or its record kept here on a fresh clone).
cd "$(dirname "$0")/../.."
T="node --no-liftoff dist/cli.js tune"
# The lr or beta the rule chose so far for a base (folder name) and configs/ method: read from results/tuning by the kit's own report code.
chosen() {
  node -e '
    const t = require("./dist/report/tuningReport.js");
    const [base, method, key] = process.argv.slice(1);
    const rows = t.readTuningRuns("results/tuning").map(t.tuningRow).filter((r) => r.base === base && r.config === method);
    const c = t.chooseSetting(rows);
    if (!c) { console.error(`no chosen setting for ${base} ${method}`); process.exit(1); }
    console.log(c[key]);' "$1" "$2" "$3"
}
# docs/PROTOCOL.md, "Tuning": a choice at its grid's edge gets the next lr beyond it tried (once per edge).
next_lr() { case "$1" in 0.000003) echo 1e-6;; 0.00003) echo 1e-4;; 0.0001) echo 3e-4;; *) echo "";; esac; }
extend() {  # base-folder-name method [--base DIR]
  lr=$(chosen "$1" "$2" lr); n=$(next_lr "$lr")
  [ -z "$n" ] && return 0
  case "$2" in sft*) $T --method "$2" $3 $4 --lrs "$n" --steps 400 --workers 2;;
  *) $T --method "$2" $3 $4 --lrs "$n" --betas "$(chosen "$1" "$2" beta)" --steps 400 --workers 2;; esac
}
set -e
$T --method sft      --lrs 3e-6,1e-5,3e-5,1e-4                 --steps 400 --workers 2
$T --method self-dpo --lrs 3e-6,1e-5,3e-5 --betas 500,5000 --steps 400 --workers 2
$T --method dpo      --lrs 3e-6,1e-5,3e-5 --betas 500,5000 --steps 400 --workers 2
for m in sft self-dpo dpo; do extend base-s $m; done
$T --method sft      --base data/base-l --lrs 3e-6,1e-5,3e-5,1e-4                 --steps 400 --workers 2
$T --method self-dpo --base data/base-l --lrs 3e-6,1e-5,3e-5 --betas 500,5000 --steps 400 --workers 2
$T --method dpo      --base data/base-l --lrs 3e-6,1e-5,3e-5 --betas 500,5000 --steps 400 --workers 2
for m in sft self-dpo dpo; do extend base-l $m --base data/base-l; done
B=$(chosen base-s self-dpo beta)
echo "base-S Self-DPO's chosen beta: $B"
$T --method self-dpo-web     --lrs 3e-6,1e-5,3e-5 --betas "$B" --steps 400 --workers 2
$T --method self-dpo-curated --lrs 3e-6,1e-5,3e-5 --betas "$B" --steps 400 --workers 2
$T --method sft-web          --lrs 3e-6,1e-5,3e-5,1e-4 --steps 400 --workers 2
$T --method sft-curated      --lrs 3e-6,1e-5,3e-5,1e-4 --steps 400 --workers 2
$T --method self-dpo-beta50  --lrs 3e-6,1e-5,3e-5 --steps 400 --workers 2
$T --method self-dpo-beta50  --base data/base-l --lrs 3e-6,1e-5,3e-5 --steps 400 --workers 2
# The edge rule holds for part 2 as well (added 2026-12-05, after the part's runs and before any of
# its extensions: the first version of this script applied it to part 1 only).
for m in self-dpo-web self-dpo-curated sft-web sft-curated self-dpo-beta50; do extend base-s $m; done
extend base-l self-dpo-beta50 --base data/base-l
echo SWEEP-V2-DONE
# The steps (docs/PROTOCOL.md, "Tuning"): each base's chosen SFT, Diffusion-DPO and Self-DPO once more
# at 800 steps, to see where the held-out criterion flattens or turns (at 400 every Diffusion-DPO run on
# base-S was still rising). Its "best at step" sets the reproduction's budget per base.
longer() {  # base-folder-name [--base DIR]
  for m in sft self-dpo dpo; do
    lr=$(chosen "$1" "$m" lr)
    if [ "$m" = sft ]; then $T --method "$m" $2 $3 --lrs "$lr" --steps 800 --workers 2
    else $T --method "$m" $2 $3 --lrs "$lr" --betas "$(chosen "$1" "$m" beta)" --steps 800 --workers 2; fi
  done
}
longer base-s
longer base-l --base data/base-l
echo SWEEP-V2-STEPS-DONE
