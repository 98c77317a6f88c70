# gorun_set_warnings(<target>): the warning set for gorun's own targets (the library, its tests,
# samples and benchmarks). PRIVATE, so nothing here reaches a consumer of gorun::gorun.
#
# Kept to warnings that catch bugs without firing on ordinary coroutine code under both
# clang++-19 and g++-12. Left out on purpose: -Wpedantic (rejects GNU extensions the syscall shim
# may use), -Wshadow (GCC flags constructor parameters named like members), -Wnull-dereference
# (false positives from GCC at -O2), -Wold-style-cast (fires on macros such as MAP_FAILED),
# -Wformat=2 (flags a printf-style fatal() that forwards its format), -Wmissing-declarations
# (GCC only, so a clang build would not see what the gcc presets reject).
# -Werror follows GORUN_WERROR (on when gorun is the top-level project).

function(gorun_set_warnings target)
    target_compile_options(
        ${target}
        PRIVATE -Wall
                -Wextra
                -Wnon-virtual-dtor
                -Woverloaded-virtual
                -Wimplicit-fallthrough
                $<$<BOOL:${GORUN_WERROR}>:-Werror>)
endfunction()
