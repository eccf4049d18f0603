#!/usr/bin/env bash
# The evidence study of the semivariogram loss (benchmarks/RESULTS.md, "Evidence").
#
# Usage: bash benchmarks/study_method.sh quick|full OUT [PARTS]
#   PARTS (default "history select confirm"), any of:
#   history  RESULTS.md's historical tables, re-run: every variant on both layouts at the
#            settings of 2026-12-01 (m = 1, beta = 1), the margin sweep (m = 0, 2), the
#            beta/lambda sweep at m = 0 and the defaults of today (m = 0, beta = 2) on the
#            blocked layout; all scored on the test set of build seed 1, as then.
#   select   the same sweep scored on a selection set held out of build seed 1's training
#            store (ablate --select-fraction; regions and buffer as the layout's test set);
#            study_table.py best picks the winner by selection-set GeoScore.
#   confirm  every variant at the winner's settings on a fresh build (seed 2): the
#            confirmation, on data no choice has seen.
#   defaults InfoNCE and both at the shipped defaults (m = 0, beta = 2, chosen on build
#            seed 1's test set on 2026-12-01) on the fresh build (seed 2): whether the
#            shipped defaults hold on data that did not choose them, at a quarter of the
#            cost of the whole study.
#   regional after defaults: "both" at the same settings with a region-wise variogram
#            (REGIONS k-means regions, default 6, not tuned; "auto" chooses K on the
#            training store among REGION_CANDIDATES, default the command's), paired with
#            the defaults part's InfoNCE runs (same seeds, same batches).
# Every loss and training setting is passed explicitly (nothing relies on the defaults of
# the day). Resumable: finished runs are reused, runs of other settings are refused.
#   quick: 400 + 100 patches, 2 seeds, 2 epochs of batch 64 (queue 256), the training store
#          as gallery, a reduced sweep: checks every part end to end (not a result).
#   full:  5,000 + 1,000 patches, 5 seeds, 6 epochs of batch 256 (queue 1024), the
#          published 100K gallery (plus the training places on the fine layout, whose
#          test places sit 0.5-5 km from them): the settings of the 2026-12-01 study.
# Environment: GEOVARIO (the command, default .venv/bin/geovario), PYTHON (for
# study_table.py), DEVICE (default cpu), SEEDS, MARGINS, BETAS, LAMBDAS override the
# mode's values; LAYOUTS (default "interleaved blocked"; fine too) the Blue Marble layouts studied.
# Tables: OUT/tables.md (every ablation) and OUT/comparisons.md (sweeps
# against each other, as RESULTS.md reports them).
set -euo pipefail
mode=${1:?usage: study_method.sh quick|full OUT [PARTS]}
out=${2:?usage: study_method.sh quick|full OUT [PARTS]}
parts=${3:-history select confirm}
geovario=${GEOVARIO:-.venv/bin/geovario}
python=${PYTHON:-.venv/bin/python}
case $mode in
  quick) train=400 test=100 epochs=2 batch=64 queue=256 seeds=${SEEDS:-2} gallery=store
         margins=${MARGINS:-2} betas=${BETAS:-2} lambdas=${LAMBDAS:-};;
  full)  train=5000 test=1000 epochs=6 batch=256 queue=1024 seeds=${SEEDS:-5} gallery=geoclip
         margins=${MARGINS:-0 2} betas=${BETAS:-0.5 2} lambdas=${LAMBDAS:-0.5};;
  *) echo "study_method.sh: mode must be quick or full, got $mode" >&2; exit 2;;
esac
labels=unique_country,unique_region,unique_sub-region,unique_city,cluster

features() {  # layout build-seed -> OUT/layout/build-seed/{bluemarble,features/{train,test}}
    local data=$out/$1/build-$2
    $geovario bluemarble build --layout "$1" --train "$train" --test "$test" --seed "$2" \
        --out "$data/bluemarble" > /dev/null
    for part in train test; do
        $geovario extract --dataset bluemarble --root "$data/bluemarble" --split $part \
            --labels "$labels" --backbone efficientnet-lite0 --batch-size 32 \
            --out "$data/features/$part" --quiet
    done
}

gallery_of() {  # layout build-seed -> the --gallery value
    local train_store=store:$out/$1/build-$2/features/train
    if [ "$gallery" = store ]; then echo "$train_store"
    elif [ "$1" = fine ]; then echo "geoclip+$train_store"  # 1 km needs the training places
    else echo geoclip; fi
}

# Loss settings: the study of 2026-12-01 (m = 1, beta = 1, lambda = 1, w_max = 3, false
# negatives down-weighted, residual over the sill, the abstract's rule); sweeps change one.
loss_1201=(--hard-strength 1 --max-weight 3 --hard-margin 1 --false-negatives downweight
           --false-strength 1 --residual-scale sill --semivariogram-rule abstract)

ablate() {  # layout build-seed folder variants [options...]
    local data=$out/$1/build-$2
    $geovario ablate "$out/$1/$3" --train-store "$data/features/train" \
        --variants "$4" --seeds "$seeds" --baseline infonce --gallery "$(gallery_of "$1" "$2")" \
        --epochs "$epochs" --batch-size "$batch" --queue-size "$queue" --lr 3e-4 --weight-decay 1e-6 \
        --lr-decay 0.87 --batch-noise-m 150 --queue-noise-m 1000 --sigmas 1,16,256 \
        --init location --amp off --device "${DEVICE:-cpu}" --quiet "${@:5}" > /dev/null
    echo "study: $1/$3 done"
}

sweep() {  # layout build-seed base folder [options...]: "both" paired with base's InfoNCE runs
    mkdir -p "$out/$1/$4/runs"
    for seed in $(seq 0 $((seeds - 1))); do
        ln -sfn "$(realpath "$out/$1/$3/runs/infonce-seed$seed")" \
            "$out/$1/$4/runs/infonce-seed$seed"
    done
    if [ -d "$out/$1/$3/selection" ]; then
        ln -sfn "$(realpath "$out/$1/$3/selection")" "$out/$1/$4/selection"
    fi
    ablate "$1" "$2" "$4" infonce,both "${@:5}" --variogram "$out/$1/$3/variogram.json"
}

with() {  # option value: loss_1201 with one setting changed (and m = 0 for the beta/lambda sweep)
    local args=("${loss_1201[@]}") i
    for ((i = 0; i < ${#args[@]}; i += 2)); do
        for ((j = 1; j <= $#; j += 2)); do
            if [ "${args[i]}" = "${!j}" ]; then k=$((j + 1)); args[i + 1]=${!k}; fi
        done
    done
    echo "${args[@]}"
}

test_set() { echo --test-store "$out/$1/build-$2/features/test"; }
select_set() {  # layout -> the selection split mirroring the layout's test set
    if [ "$1" = blocked ]; then
        echo --select-fraction 0.2 --select-region-km 446 --select-regions 16 --select-buffer-km 446
    else
        echo --select-fraction 0.2 --select-region-km 0 --select-buffer-km 25
    fi
}

grid() {  # layout build-seed base prefix options...: margins at beta = 1, beta and lambda at m = 0
    local layout=$1 build=$2 base=$3 prefix=$4; shift 4
    for m in $margins; do
        # shellcheck disable=SC2046
        sweep "$layout" "$build" "$base" "${prefix}margin-$m" $(with --hard-margin "$m") "$@"
    done
    for b in $betas; do
        # shellcheck disable=SC2046
        sweep "$layout" "$build" "$base" "${prefix}beta-$b" $(with --hard-margin 0 --hard-strength "$b") "$@"
    done
    for l in $lambdas; do
        # shellcheck disable=SC2046
        sweep "$layout" "$build" "$base" "${prefix}lambda-$l" $(with --hard-margin 0 --false-strength "$l") "$@"
    done
}

for layout in ${LAYOUTS:-interleaved blocked}; do
    if [[ " $parts " == *" history "* || " $parts " == *" select "* ]]; then
        features "$layout" 1
    fi
    if [[ " $parts " == *" history "* ]]; then
        # shellcheck disable=SC2046
        ablate "$layout" 1 ablation infonce,hard,false,both,prototype "${loss_1201[@]}" $(test_set "$layout" 1)
        # shellcheck disable=SC2046
        grid "$layout" 1 ablation "" $(test_set "$layout" 1)
    fi
    if [[ " $parts " == *" select "* ]]; then
        # shellcheck disable=SC2046
        ablate "$layout" 1 select infonce,both "${loss_1201[@]}" $(select_set "$layout")
        # shellcheck disable=SC2046
        grid "$layout" 1 select select- $(select_set "$layout")
    fi
    if [[ " $parts " == *" confirm "* ]]; then
        features "$layout" 2
        # shellcheck disable=SC2046
        chosen=$($python benchmarks/study_table.py best "$out/$layout"/select*)
        echo "study: $layout confirms $chosen"
        echo "$chosen" > "$out/$layout/chosen-settings.txt"
        # shellcheck disable=SC2046,SC2086
        ablate "$layout" 2 confirm infonce,hard,false,both,prototype $chosen $(test_set "$layout" 2)
    fi
    if [[ " $parts " == *" defaults "* ]]; then
        features "$layout" 2
        # shellcheck disable=SC2046
        ablate "$layout" 2 defaults infonce,both $(with --hard-margin 0 --hard-strength 2) $(test_set "$layout" 2)
    fi
    if [[ " $parts " == *" regional "* ]]; then
        regional=$out/$layout/regional
        mkdir -p "$regional/runs"
        $geovario variogram --store "$out/$layout/build-2/features/train" --family auto \
            --regions "${REGIONS:-6}" ${REGION_CANDIDATES:+--region-candidates "$REGION_CANDIDATES"} \
            --out "$regional/regional-variogram.json" \
            --plot "$regional/regional-variogram.png" --quiet > /dev/null
        for seed in $(seq 0 $((seeds - 1))); do
            ln -sfn "$(realpath "$out/$layout/defaults/runs/infonce-seed$seed")" \
                "$regional/runs/infonce-seed$seed"
        done
        # shellcheck disable=SC2046
        ablate "$layout" 2 regional infonce,both $(with --hard-margin 0 --hard-strength 2) \
            $(test_set "$layout" 2) --variogram "$regional/regional-variogram.json"
    fi
done
compare() {  # layout a b: "both" of folder b against "both" of folder a
    if [ -d "$out/$1/$2/runs" ] && [ -d "$out/$1/$3/runs" ]; then
        printf '### %s: %s − %s\n\n' "$1" "$3" "$2"
        $python benchmarks/study_table.py compare "$out/$1/$2:both" "$out/$1/$3:both"
        echo
    fi
}
$python benchmarks/study_table.py tables "$out" > "$out/tables.md"
for layout in ${LAYOUTS:-interleaved blocked}; do
    compare "$layout" defaults regional
    for prefix in "" select-; do
        base=${prefix:+select}; base=${base:-ablation}
        for m in $margins; do compare "$layout" "$base" "${prefix}margin-$m"; done
        for b in $betas; do compare "$layout" "${prefix}margin-0" "${prefix}beta-$b"; done
        for l in $lambdas; do compare "$layout" "${prefix}margin-0" "${prefix}lambda-$l"; done
    done
done > "$out/comparisons.md"
echo "study: tables in $out/tables.md and $out/comparisons.md"
