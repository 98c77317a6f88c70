# Finds what gorun builds against. Each missing dependency stops the configure with one line that
# names the Debian package to install; scripts/install-deps.sh installs all of them.
#
# Targets made here: Threads::Threads, fmt::fmt, PkgConfig::liburing (GLOBAL: one target for the
# whole build) and, when tests are built, doctest::doctest. A target that a parent project made
# before add_subdirectory(gorun) is used as it is.

function(_gorun_missing what package)
    # The leading space keeps CMake from re-wrapping the message: it stays one greppable line.
    message(FATAL_ERROR
            " gorun: ${what} not found; install the Debian package ${package} (apt-get install ${package})")
endfunction()

find_package(Threads REQUIRED)

if(NOT TARGET PkgConfig::liburing)
    find_package(PkgConfig QUIET)
    if(NOT PKG_CONFIG_FOUND)
        _gorun_missing(pkg-config pkg-config)
    endif()
    # The prefix names the imported target; gorunConfig.cmake re-creates it under the same name.
    pkg_check_modules(liburing QUIET IMPORTED_TARGET GLOBAL liburing)
    if(NOT liburing_FOUND)
        _gorun_missing(liburing liburing-dev)
    endif()
endif()

if(NOT TARGET fmt::fmt)
    find_package(fmt QUIET)
    if(NOT fmt_FOUND)
        _gorun_missing(fmt libfmt-dev)
    endif()
endif()

if(GORUN_BUILD_TESTS AND NOT TARGET doctest::doctest)
    find_package(doctest QUIET)
    if(NOT doctest_FOUND)
        _gorun_missing(doctest doctest-dev)
    endif()
endif()
