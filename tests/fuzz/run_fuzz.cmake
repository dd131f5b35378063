# Runs one libFuzzer target for SECONDS on a fresh copy of its seed corpus.
# cmake -DFUZZER=<binary> -DCORPUS=<seed dir> -DDICT=<dict> -DWORK=<scratch dir>
#       -DSECONDS=<n> -P run_fuzz.cmake
# New corpus entries and crash artifacts land in WORK, never in the sources.
foreach(var FUZZER CORPUS DICT WORK SECONDS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_fuzz.cmake: ${var} not set")
  endif()
endforeach()

file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/artifacts)
file(COPY ${CORPUS}/ DESTINATION ${WORK}/corpus)

execute_process(
  COMMAND ${FUZZER}
          -max_total_time=${SECONDS}
          -timeout=10
          -print_final_stats=1
          -dict=${DICT}
          -artifact_prefix=${WORK}/artifacts/
          ${WORK}/corpus
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (${rc}); reproducer in ${WORK}/artifacts")
endif()
