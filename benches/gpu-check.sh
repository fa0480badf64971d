#!/usr/bin/env bash
# The figures the stress issue (#8) asks of a real GPU, in one run that fits a short
# lease: the adapter and its limits, the bundled coupons' solves at 2 and 6 µm, stress
# solves at growing sizes, the process ops, the coupons again with a degree-1 smoother
# on the voxels, the largest synthetic solve, and a billion-voxel flow, most wanted
# first. Each part has its own time limit, cut to what
# is left of the whole run's deadline, so a slow or failing part leaves the others
# their time; every part's full output goes to OUTDIR/<part>.txt, and a summary (exit
# status and seconds per part, then the bench tables) is printed last and kept in
# OUTDIR/summary.txt.
#
#   bash benches/gpu-check.sh OUTDIR [--quick] [--bin PATH] [--deadline SECONDS]
#
# --quick:    small sizes only (about a minute on lavapipe; checks the script itself).
# --bin:      a voxfab binary built elsewhere (default target/release/voxfab, built
#             here with cargo when missing).
# --deadline: seconds for the whole run (default 540).
# VOXFAB_BIG: the largest synthetic solve's edge (default 736: 736x736x368, 200 M
# nodes, 4.8 GB per f64 vector: past the 4 GiB that wgpu 30 gives any buffer, so the
# vectors come in pieces, docs/STRESS.md; 0 to skip).
# VOXFAB_HUGE: the edge of one more synthetic solve after it (default 0, none; 1260
# makes 1.0 G nodes, well over 100 GB: for an H200, not an H100).
# VOXFAB_GPU_MIB: the memory budget of the billion-voxel flow (default 70000 MiB,
# `--gpu-memory`; the bench parts use the solver's own checks and, for scenes, the
# default 4096 MiB, ample for the coupons).
set -uo pipefail
start=$SECONDS

out=""
quick=0
bin=""
deadline=540
while [ "$#" -gt 0 ]; do
    case "$1" in
    --quick) quick=1 ;;
    --bin)
        bin=${2:?--bin needs a path}
        shift
        ;;
    --deadline)
        deadline=${2:?--deadline needs seconds}
        shift
        ;;
    -*)
        echo "gpu-check: unknown option $1" >&2
        exit 2
        ;;
    *) out=$1 ;;
    esac
    shift
done
[ -n "$out" ] || {
    echo "usage: bash benches/gpu-check.sh OUTDIR [--quick] [--bin PATH] [--deadline SECONDS]" >&2
    exit 2
}
big=${VOXFAB_BIG:-736}
huge=${VOXFAB_HUGE:-0}
mib=${VOXFAB_GPU_MIB:-70000}
for v in "$deadline" "$big" "$huge" "$mib"; do
    [[ $v =~ ^[0-9]+$ ]] || {
        echo "gpu-check: $v is not a whole number (--deadline, VOXFAB_BIG, VOXFAB_HUGE, VOXFAB_GPU_MIB)" >&2
        exit 2
    }
done
# Paths as the caller gave them, then the repository root (the scenes are relative).
mkdir -p "$out" || exit 1
out=$(cd "$out" && pwd)
case "$bin" in "" | /*) ;; *) bin="$PWD/$bin" ;; esac
cd "$(dirname "$0")/.." || exit 1
if [ -z "$bin" ]; then
    bin="$PWD/target/release/voxfab"
    [ -x "$bin" ] || cargo build --release --bin voxfab || exit 1
fi
[ -x "$bin" ] || {
    echo "gpu-check: no voxfab binary at $bin" >&2
    exit 2
}
summary="$out/summary.txt"
: >"$summary"
end=$((start + deadline))

# part NAME SECONDS COMMAND...: runs COMMAND with a limit (cut to what is left of the
# deadline), its output to OUTDIR/NAME.txt.
part() {
    local name=$1 limit=$2
    shift 2
    local left=$((end - SECONDS))
    if [ "$left" -lt 15 ]; then
        printf '%-16s %-30s\n' "$name" "skipped: deadline reached" | tee -a "$summary"
        return
    fi
    # timeout's --kill-after grace comes on top of the limit.
    [ "$limit" -gt $((left - 10)) ] && limit=$((left - 10))
    echo "== $name ($limit s): $*"
    local t0 rc ms
    t0=$(date +%s%N)
    timeout --kill-after=10 "$limit" "$@" >"$out/$name.txt" 2>&1
    rc=$?
    ms=$((($(date +%s%N) - t0) / 1000000))
    local what="exit $rc"
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        what="stopped at its $limit s limit"
    fi
    printf '%-16s %-30s %6d.%01d s\n' "$name" "$what" $((ms / 1000)) $((ms % 1000 / 100)) | tee -a "$summary"
}

coupons=(--stress-scene scenes/suspended_bump.toml --stress-scene scenes/conventional_bump.toml)
if [ "$quick" -eq 1 ]; then
    ops_size=64
    sizes=16,32
    big=0
    huge=0
    flow_voxel=4.0
    flow_coarsen=2
    coupon_coarsen=(3)
else
    ops_size=512
    sizes=64,128,256,512
    # suspended_bump.toml is 300 x 160 x 150 µm: 0.193 µm voxels make 1554 x 829 x
    # 777 = 1.0 G voxels; its stress step on 2x2x2 blocks then has 125 M nodes.
    flow_voxel=0.193
    flow_coarsen=2
    coupon_coarsen=(1 3)
fi

part info 60 "$bin" info
for c in "${coupon_coarsen[@]}"; do
    part "coupons_c$c" 300 "$bin" bench stress "${coupons[@]}" --set "step.thermal_cycle.coarsen=$c"
done
part stress 300 "$bin" bench stress --sizes "$sizes"
part ops 120 "$bin" bench ops --size "$ops_size"
# The degree-1 smoother on the voxels (8-14 % faster at 2-4 µm on lavapipe, 2-8 more
# iterations): is it on a GPU too?
for c in "${coupon_coarsen[@]}"; do
    part "coupons_c${c}_deg1" 300 "$bin" bench stress "${coupons[@]}" \
        --set "step.thermal_cycle.coarsen=$c" --fine-degree 1
done
if [ "$big" -gt 0 ]; then
    part "stress_$big" 300 "$bin" bench stress --sizes "$big"
fi
if [ "$huge" -gt 0 ]; then
    part "stress_$huge" 300 "$bin" bench stress --sizes "$huge"
fi
part flow_big 300 "$bin" run scenes/suspended_bump.toml --out "$out/flow_big" --size 800x450 \
    --gpu-memory "$mib" --set "grid.voxel=$flow_voxel" --set "step.thermal_cycle.coarsen=$flow_coarsen"
# The flow's written outputs are large (result.vti: 4 B per voxel and field); keep the
# figures and frames only.
rm -f "$out"/flow_big/*.vti "$out"/flow_big/*.vti.tmp

{
    echo
    grep -h "^adapter:" "$out/info.txt" 2>/dev/null | head -n 1
    for f in "$out"/stress*.txt "$out"/coupons_c*.txt; do
        [ -e "$f" ] || continue
        echo "--- $(basename "$f" .txt)"
        # The rows only: the per-level lines stay in the part's own file.
        grep -v -e "^adapter:" -e "XDG_RUNTIME_DIR" -e "^    level " "$f" | tail -n 12
    done
    echo "--- flow_big"
    grep -E "iterations|^wrote|rror" "$out/flow_big.txt" 2>/dev/null | tail -n 4
} | tee -a "$summary"
