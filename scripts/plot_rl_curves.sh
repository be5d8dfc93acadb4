#!/bin/sh
# Draws RL training curves with gnuplot (Debian: gnuplot-nox, installed by scripts/deps.sh):
#   plot_rl_curves.sh OUT.png SMOOTH [REWARD.dat JUDGE.dat LABEL COLOR DASH]...
# Each REWARD.dat / JUDGE.dat holds "step value" rows of one run (a moving average of SMOOTH steps
# of metrics.jsonl's reward / judge_accuracy); COLOR (one per arm) and DASH (one per seed) are
# gnuplot line color / dash type numbers. Left panel: reward; right: judge accuracy (%).
# `autothink eval compare --chart` writes these files and calls this script.
set -eu
if [ $# -lt 7 ]; then
  echo "usage: $0 OUT.png SMOOTH REWARD.dat JUDGE.dat LABEL COLOR DASH [...]" >&2
  exit 2
fi
if ! command -v gnuplot >/dev/null 2>&1; then
  echo "plot_rl_curves.sh: gnuplot not found (apt-get install gnuplot-nox)" >&2
  exit 3
fi
out=$1
smooth=$2
shift 2
rewards=""
judges=""
while [ $# -ge 5 ]; do
  [ -n "$rewards" ] && rewards="$rewards, " && judges="$judges, "
  rewards="$rewards'$1' using 1:2 with lines lw 2 lc $4 dt $5 title '$3'"
  judges="$judges'$2' using 1:(100*\$2) with lines lw 2 lc $4 dt $5 title '$3'"
  shift 5
done
terminal="pngcairo size 1200,500 font 'Sans,10'"
gnuplot -e "set terminal" 2>/dev/null | grep -q pngcairo || terminal="png size 1200,500"
{
  echo "set terminal $terminal"
  echo "set output '$out'"
  echo "set multiplot layout 1,2 title 'RL training curves (moving average of $smooth steps)'"
  echo "set grid"
  echo "set xlabel 'step'"
  echo "set key below horizontal"
  echo "set title 'Mean reward of the auto rollouts'"
  echo "plot $rewards"
  echo "set title 'Judge accuracy (%): mode choice vs the group verdict'"
  echo "set yrange [0:105]"
  echo "plot $judges"
  echo "unset multiplot"
} | gnuplot
