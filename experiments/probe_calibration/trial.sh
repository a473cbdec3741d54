#!/bin/bash
# usage: trial.sh NAME overrides...
NAME=$1; shift
cd /work/calib
start=$(date +%s)
echo "START $NAME $(date -u +%T)" 
PYTHONPATH=/work/calib nice -n 5 /work/main/.venv/bin/python -m seq2seq.train "$@" threads=1 hydra.run.dir=/work/calib/runs/$NAME > /work/calib/runs/$NAME.console 2>&1
rc=$?
end=$(date +%s)
echo "$NAME rc=$rc wall=$((end-start))s" > /work/calib/runs/$NAME.wall
echo "CMD: $*" >> /work/calib/runs/$NAME.wall
echo "END $NAME rc=$rc wall=$((end-start))s"
