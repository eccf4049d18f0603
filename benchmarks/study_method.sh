#!/usr/bin/env bash
# The evidence study of the semivariogram loss (benchmarks/RESULTS.md, "Evidence"):
# both Blue Marble splits -> EfficientNet-Lite0 features -> `geovario ablate` with every
# variant over SEEDS seeds, compared pairwise to InfoNCE. Resumable: rerun to continue.
#
# Usage: bash benchmarks/study_method.sh OUT [SEEDS] [TRAIN] [TEST]
set -euo pipefail
out=${1:?usage: study_method.sh OUT [SEEDS] [TRAIN] [TEST]}
seeds=${2:-5}
train=${3:-5000}
test=${4:-1000}
geovario=${GEOVARIO:-.venv/bin/geovario}
train_args=(--epochs 6 --batch-size 256 --queue-size 1024 --lr 3e-4 --device cpu --quiet)
for split in interleaved blocked; do
    data=$out/$split
    $geovario bluemarble build --split "$split" --train "$train" --test "$test" --seed 1 \
        --out "$data/bluemarble"
    for part in train test; do
        $geovario extract --dataset bluemarble --root "$data/bluemarble" --split $part \
            --backbone efficientnet-lite0 --batch-size 32 --out "$data/features/$part" \
            --no-progress
    done
    $geovario ablate --train-store "$data/features/train" --test-store "$data/features/test" \
        --out "$data/ablation" --seeds "$seeds" "${train_args[@]}"
done
