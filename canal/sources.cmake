# Sources of the CANAL surface (canal/).
set(U2C_CANAL_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/osal.c
  ${CMAKE_CURRENT_LIST_DIR}/osal_win32.c
  ${CMAKE_CURRENT_LIST_DIR}/osal_posix.c
  ${CMAKE_CURRENT_LIST_DIR}/canal_api.c
)
