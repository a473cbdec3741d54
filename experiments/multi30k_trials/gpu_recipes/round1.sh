#!/bin/bash
# issue 15: which Multi30k recipe learns most in the epochs that 60 CPU minutes allow? Per-update learning does not
# depend on the device, so the lent GPU trains 12 recipes side by side (fp32, as on the CPU) and metrics.jsonl
# gives validation BLEU at every epoch. The recorded run of this script decoded test_2016_flickr for every recipe
# ('eval.splits=[test_2016_flickr]'); +experiment=recipe_search now decodes the validation split only (issue 28).
export PYTHONPATH=$PWD/.gpu/site:$PWD SEQ2SEQ_CACHE=$PWD/.gpu/cache PYTHONUNBUFFERED=1
nvidia-smi -L; nproc
start=$(date +%s)
timeout ${BUDGET:-400} python3 -m seq2seq -m data=multi30k data.root=$PWD/.gpu/data/multi30k precision=fp32 \
  hydra/launcher=joblib hydra.launcher.n_jobs=12 threads=1 \
  +experiment=recipe_search train.lr=0.001,0.002 train.batch_tokens=4096,2048 \
  train.max_minutes=null train.max_epochs=10 train.patience=10 eval.beam_size=5 \
  hydra.sweep.dir=/tmp/recipes > /tmp/recipes.console 2>&1
echo "sweep rc=$? after $(( $(date +%s) - start ))s"
tail -n 15 /tmp/recipes.console
mkdir -p $OUT/recipes; cp /tmp/recipes.console $OUT/recipes/
for d in /tmp/recipes/*/; do n=$(basename $d); mkdir -p $OUT/recipes/$n; cp $d/metrics.jsonl $d/results.json $d/config.yaml $d/train.log $d/.hydra/overrides.yaml $OUT/recipes/$n/ 2>/dev/null; done
ls $OUT/recipes
