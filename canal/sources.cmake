# Sources of the CANAL surface (canal/).
set(U2C_CANAL_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/osal.c
  ${CMAKE_CURRENT_LIST_DIR}/osal_win32.c
  ${CMAKE_CURRENT_LIST_DIR}/osal_posix.c
  ${CMAKE_CURRENT_LIST_DIR}/canal_api.c
  ${CMAKE_CURRENT_LIST_DIR}/cfg_parse.c
  ${CMAKE_CURRENT_LIST_DIR}/last_error.c
  ${CMAKE_CURRENT_LIST_DIR}/driver_info.c
)
