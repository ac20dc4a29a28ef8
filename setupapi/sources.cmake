# Sources of adapter discovery (setupapi/).
set(U2C_SETUPAPI_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/discover.c
  ${CMAKE_CURRENT_LIST_DIR}/discover_rules.c
  ${CMAKE_CURRENT_LIST_DIR}/hw_scan_win32.c
  ${CMAKE_CURRENT_LIST_DIR}/hw_scan_libusb.c
)
