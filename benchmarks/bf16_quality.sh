#!/usr/bin/env bash
# Does bf16 autocast cost quality? The transformer trained on Multi30k (train=quick: 2 epochs) in fp32
# and in bf16 with the same seed, for two seeds, plus the first fp32 model decoded under bf16; then paired
# bootstrap tests on test_2016_flickr. Two runs at a time, one thread each: about 25 minutes on 2 cores.
# Usage: benchmarks/bf16_quality.sh [OUT_DIR]   (Multi30k from $SEQ2SEQ_DATA/multi30k)
set -euo pipefail
out="${1:-benchmarks/.work/bf16_quality}"
data="${SEQ2SEQ_DATA:?set SEQ2SEQ_DATA to the directory holding multi30k/}/multi30k"
train() {  # precision seed
  seq2seq-train model=transformer data=multi30k data.root="$data" train=quick precision="$1" seed="$2" threads=1 \
    hydra.run.dir="$out/transformer_$1_s$2" > "$out/transformer_$1_s$2.log" 2>&1
}
mkdir -p "$out"
for seed in 1 2; do
  train fp32 "$seed" & train bf16 "$seed" & wait
done
cp -r "$out/transformer_fp32_s1" "$out/transformer_fp32_s1_bf16decode"
seq2seq-eval "$out/transformer_fp32_s1_bf16decode" precision=bf16 > /dev/null
seq2seq-compare "$out"/transformer_{fp32_s1,bf16_s1,fp32_s1_bf16decode,fp32_s2} --split test_2016_flickr --out "$out/seed1"
seq2seq-compare "$out"/transformer_{fp32_s2,bf16_s2} --split test_2016_flickr --out "$out/seed2"
