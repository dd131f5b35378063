# Checks that docs/cli.md (DOC) holds exactly `llmoinctl help-markdown`
# between its markers; with -DUPDATE=ON rewrites that part instead.
set(begin "<!-- BEGIN GENERATED -->\n")
set(end "<!-- END GENERATED -->")

execute_process(COMMAND ${LLMOINCTL} help-markdown
  RESULT_VARIABLE rc OUTPUT_VARIABLE generated ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "llmoinctl help-markdown failed (${rc}): ${err}")
endif()

file(READ "${DOC}" doc)
string(FIND "${doc}" "${begin}" b)
string(FIND "${doc}" "${end}" e)
if(b LESS 0 OR e LESS b)
  message(FATAL_ERROR "${DOC}: markers '${begin}' ... '${end}' missing")
endif()
string(LENGTH "${begin}" begin_length)
math(EXPR start "${b} + ${begin_length}")
math(EXPR length "${e} - ${start}")
string(SUBSTRING "${doc}" ${start} ${length} current)

if(current STREQUAL generated)
  return()
endif()
if(UPDATE)
  string(SUBSTRING "${doc}" 0 ${start} head)
  string(SUBSTRING "${doc}" ${e} -1 tail)
  file(WRITE "${DOC}" "${head}${generated}${tail}")
  message(STATUS "updated ${DOC}")
  return()
endif()
message(FATAL_ERROR "${DOC} is out of date with the command table.\n"
  "Regenerate it: cmake --build <build dir> --target llmoinctl-docs")
