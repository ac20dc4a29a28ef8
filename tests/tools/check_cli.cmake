# Runs usb2can-cli as a program (through the emulator when cross-compiled)
# and checks its exit status and output.
#   cmake -DPROGRAM=<exe> [-DEMULATOR=<runner>] -DARGS=<a|b|..> -DEXPECT_STATUS=<n>
#         [-DEXPECT_OUT=<regex>] [-DEXPECT_ERR=<regex>] -P check_cli.cmake
# Output is compared without carriage returns (Windows text mode adds them).
string(REPLACE "|" ";" ARGS "${ARGS}")
execute_process(COMMAND ${EMULATOR} ${PROGRAM} ${ARGS}
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REPLACE "\r" "" out "${out}")
string(REPLACE "\r" "" err "${err}")
set(shown "usb2can-cli ${ARGS}\n--- exit status ${status}\n--- stdout\n${out}--- stderr\n${err}")
if(NOT status STREQUAL EXPECT_STATUS)
  message(FATAL_ERROR "expected exit status ${EXPECT_STATUS}\n${shown}")
endif()
if(DEFINED EXPECT_OUT AND NOT out MATCHES "${EXPECT_OUT}")
  message(FATAL_ERROR "stdout does not match '${EXPECT_OUT}'\n${shown}")
endif()
if(DEFINED EXPECT_ERR AND NOT err MATCHES "${EXPECT_ERR}")
  message(FATAL_ERROR "stderr does not match '${EXPECT_ERR}'\n${shown}")
endif()
