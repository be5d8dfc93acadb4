#!/bin/sh
# Draws the `autothink eval` chart with gnuplot (Debian: gnuplot-nox, installed by scripts/deps.sh).
#   plot_eval.sh OUT.png EVAL.dat [CURVE.dat LABEL]...
# EVAL.dat: "group auto_acc on_acc off_acc auto_tokens on_tokens off_tokens" rows (accuracy in %,
# mean completion tokens), one per difficulty and "all". Each CURVE.dat holds "step loss" rows of
# one training run (from its metrics.jsonl), drawn as a third panel. `autothink eval` writes
# these files and calls this script; exit status non-zero when gnuplot is missing or fails.
set -eu
if [ $# -lt 2 ]; then
  echo "usage: $0 OUT.png EVAL.dat [CURVE.dat LABEL]..." >&2
  exit 2
fi
if ! command -v gnuplot >/dev/null 2>&1; then
  echo "plot_eval.sh: gnuplot not found (apt-get install gnuplot-nox)" >&2
  exit 3
fi
out=$1
table=$2
shift 2

curves=""
n=0
while [ $# -ge 2 ]; do
  if [ -s "$1" ] && [ "$(grep -vc '^#' "$1" || true)" -gt 0 ]; then
    [ -n "$curves" ] && curves="$curves, "
    curves="$curves'$1' using 1:2 with lines lw 2 title '$2'"
    n=$((n + 1))
  fi
  shift 2
done

panels=2
[ "$n" -gt 0 ] && panels=3
width=$((panels * 520))

# pngcairo where available (nicer text), else libgd's png.
terminal="pngcairo size ${width},440 font 'Sans,10'"
gnuplot -e "set terminal" 2>/dev/null | grep -q pngcairo || terminal="png size ${width},440"

{
  echo "set terminal $terminal"
  echo "set output '$out'"
  echo "set multiplot layout 1,$panels title 'AutoThink eval: auto vs forced on vs forced off'"
  echo "set style data histogram"
  echo "set style histogram clustered gap 1"
  echo "set style fill solid 0.85 border -1"
  echo "set boxwidth 0.9"
  echo "set key below horizontal"
  echo "set grid ytics"
  echo "set title 'Accuracy (%)'"
  echo "set yrange [0:110]"
  echo "plot '$table' using 2:xtic(1) title 'auto', '' using 3 title 'forced on', '' using 4 title 'forced off'"
  echo "set title 'Mean completion tokens'"
  echo "set offsets 0, 0, graph 0.1, 0"
  echo "set yrange [0:*]"
  echo "plot '$table' using 5:xtic(1) title 'auto', '' using 6 title 'forced on', '' using 7 title 'forced off'"
  if [ "$n" -gt 0 ]; then
    echo "set style data lines"
  echo "set offsets 0, 0, 0, 0"
    echo "set title 'Training loss'"
    echo "set xlabel 'step'"
    echo "set key inside top right vertical"
    echo "set yrange [*:*]"
    echo "set logscale y"
    echo "plot $curves"
  fi
  echo "unset multiplot"
} | gnuplot
