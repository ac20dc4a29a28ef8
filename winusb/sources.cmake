# Sources of the USB link and its device model (winusb/).
set(U2C_WINUSB_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/link_libusb.c
  ${CMAKE_CURRENT_LIST_DIR}/u8d_codec.c
  ${CMAKE_CURRENT_LIST_DIR}/bittiming.c
  ${CMAKE_CURRENT_LIST_DIR}/link.c
  ${CMAKE_CURRENT_LIST_DIR}/link_virtual.c
  ${CMAKE_CURRENT_LIST_DIR}/u8d_model.c
  ${CMAKE_CURRENT_LIST_DIR}/vbus.c
)
