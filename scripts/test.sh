#!/usr/bin/env bash
# Installs what gorun needs, then configures, builds and runs every ctest test (all labels) for
# each preset in turn: the presets given as arguments, else $GORUN_TEST_PRESETS, else
# "debug asan tsan gcc-debug release". Stops at the first failure with a non-zero exit.
# GORUN_STRESS_SCALE defaults to 1 (the small size); set it to run the stress tier larger.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if (($# > 0)); then
    presets=("$@")
else
    read -r -a presets <<<"${GORUN_TEST_PRESETS:-debug asan tsan gcc-debug release}"
fi
export GORUN_STRESS_SCALE="${GORUN_STRESS_SCALE:-1}"

scripts/install-deps.sh

duration() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

summary=()
total_start=$SECONDS
for i in "${!presets[@]}"; do
    preset=${presets[$i]}
    printf '\n==== gorun: preset %s (%d of %d), GORUN_STRESS_SCALE=%s ====\n' \
        "$preset" $((i + 1)) ${#presets[@]} "$GORUN_STRESS_SCALE"
    start=$SECONDS
    for step in configure build test; do
        case $step in
            configure) cmd=(cmake --preset "$preset") ;;
            build) cmd=(cmake --build --preset "$preset") ;;
            test) cmd=(ctest --preset "$preset") ;;
        esac
        if ! "${cmd[@]}"; then
            elapsed=$(duration $((SECONDS - start)))
            printf '\n==== gorun: preset %s FAILED at %s after %s (%s) ====\n' \
                "$preset" "$step" "$elapsed" "${cmd[*]}"
            ((${#summary[@]} == 0)) || printf 'passed before it: %s\n' "${summary[*]}"
            exit 1
        fi
    done
    elapsed=$(duration $((SECONDS - start)))
    summary+=("$preset ($elapsed)")
    printf '==== gorun: preset %s passed in %s ====\n' "$preset" "$elapsed"
done

printf '\ngorun: all %d presets passed in %s: %s\n' \
    ${#presets[@]} "$(duration $((SECONDS - total_start)))" "${summary[*]}"
