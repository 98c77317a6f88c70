# Packaging test driver, run by ctest as `cmake -P`:
#   MODE=install       cmake --install the gorun build into WORK_DIR/prefix, then build the
#                      consumer with find_package(gorun) and CMAKE_PREFIX_PATH=WORK_DIR/prefix;
#   MODE=subdirectory  build the consumer with add_subdirectory(GORUN_SOURCE_DIR).
# Either way the consumer is then run. Same generator, compiler and build type as gorun's build.
cmake_minimum_required(VERSION 3.21)

foreach(var MODE GORUN_SOURCE_DIR GORUN_BUILD_DIR CONSUMER_DIR WORK_DIR GENERATOR CXX_COMPILER)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
        message(FATAL_ERROR "run_consumer.cmake: -D${var}=... is required")
    endif()
endforeach()

function(run_step what)
    string(JOIN " " command ${ARGN})
    message(STATUS "packaging (${MODE}): ${what}: ${command}")
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "packaging (${MODE}): ${what} failed (${rc})")
    endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")

if(MODE STREQUAL "install")
    set(prefix "${WORK_DIR}/prefix")
    run_step(install "${CMAKE_COMMAND}" --install "${GORUN_BUILD_DIR}" --prefix "${prefix}")
    set(consumer_args "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON
                      "-DEXPECTED_GORUN_PREFIX=${prefix}")
elseif(MODE STREQUAL "subdirectory")
    set(consumer_args "-DGORUN_SOURCE_DIR=${GORUN_SOURCE_DIR}")
else()
    message(FATAL_ERROR "run_consumer.cmake: MODE must be install or subdirectory, not '${MODE}'")
endif()

set(build "${WORK_DIR}/build")
set(configure_args -S "${CONSUMER_DIR}" -B "${build}" -G "${GENERATOR}"
                   "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
if(MAKE_PROGRAM)
    list(APPEND configure_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(BUILD_TYPE)
    list(APPEND configure_args "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
endif()
run_step(configure "${CMAKE_COMMAND}" ${configure_args} ${consumer_args})
run_step(build "${CMAKE_COMMAND}" --build "${build}")
run_step(run "${build}/consumer")
