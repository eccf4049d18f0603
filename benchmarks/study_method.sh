#!/usr/bin/env bash
# The evidence study of the semivariogram loss (benchmarks/RESULTS.md, "Evidence"):
# both Blue Marble splits -> EfficientNet-Lite0 features -> `geovario ablate`, every
# variant compared with InfoNCE paired by seed; then a sweep of the hard-negative margin
# on the interleaved split, sharing the InfoNCE runs and the variogram. Resumable.
#
# Usage: [MARGINS="0 2"] bash benchmarks/study_method.sh OUT [SEEDS] [TRAIN] [TEST]
set -euo pipefail
out=${1:?usage: study_method.sh OUT [SEEDS] [TRAIN] [TEST]}
seeds=${2:-5}
train=${3:-5000}
test=${4:-1000}
geovario=${GEOVARIO:-.venv/bin/geovario}
train_args=(--seeds "$seeds" --epochs 6 --batch-size 256 --queue-size 1024 --lr 3e-4
            --device cpu --quiet)

features() {  # split -> build the benchmark and extract both parts
    local data=$out/$1
    $geovario bluemarble build --split "$1" --train "$train" --test "$test" --seed 1 \
        --out "$data/bluemarble"
    for part in train test; do
        $geovario extract --dataset bluemarble --root "$data/bluemarble" --split $part \
            --backbone efficientnet-lite0 --batch-size 32 --out "$data/features/$part" \
            --quiet
    done
}

ablate() {  # split, folder, variants, extra options
    local data=$out/$1
    $geovario ablate --train-store "$data/features/train" --test-store "$data/features/test" \
        --out "$data/$2" --variants "$3" "${train_args[@]}" "${@:4}"
}

features interleaved
ablate interleaved ablation infonce,hard,false,both,prototype
features blocked
ablate blocked ablation infonce,both
for margin in ${MARGINS:-0}; do  # "both" at other margins, paired with the same InfoNCE runs
    mkdir -p "$out/interleaved/margin-$margin/runs"
    for seed in $(seq 0 $((seeds - 1))); do
        ln -sfn "$out/interleaved/ablation/runs/infonce-seed$seed" \
            "$out/interleaved/margin-$margin/runs/infonce-seed$seed"
    done
    ablate interleaved "margin-$margin" infonce,both --hard-margin "$margin" \
        --variogram "$out/interleaved/ablation/variogram.json"
done
