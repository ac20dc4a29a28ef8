# Build-wide settings and helpers shared by every folder.

add_compile_options(-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes)
if(U2C_WERROR)
  add_compile_options(-Werror)
endif()

if(U2C_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
if(U2C_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()

if(WIN32)
  # Windows dependencies are cross-built by scripts/bootstrap.sh into the build tree.
  if(NOT U2C_DEPS_DIR)
    message(FATAL_ERROR "U2C_DEPS_DIR must name the cross-built libusb/cmocka prefix (run scripts/bootstrap.sh)")
  endif()
  add_library(u2c_libusb STATIC IMPORTED)
  set_target_properties(u2c_libusb PROPERTIES
      IMPORTED_LOCATION ${U2C_DEPS_DIR}/lib/libusb-1.0.a
      INTERFACE_INCLUDE_DIRECTORIES ${U2C_DEPS_DIR}/include/libusb-1.0)
  add_library(u2c_cmocka STATIC IMPORTED)
  set_target_properties(u2c_cmocka PROPERTIES
      IMPORTED_LOCATION ${U2C_DEPS_DIR}/lib/libcmocka-static.a
      INTERFACE_INCLUDE_DIRECTORIES ${U2C_DEPS_DIR}/include
      INTERFACE_COMPILE_DEFINITIONS CMOCKA_STATIC)
else()
  # C11 plus the POSIX.1-2008 interfaces (clock_gettime, nanosleep, pthread clocks).
  add_compile_definitions(_POSIX_C_SOURCE=200809L _DEFAULT_SOURCE)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(LIBUSB REQUIRED IMPORTED_TARGET libusb-1.0)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
  add_library(u2c_libusb INTERFACE)
  target_link_libraries(u2c_libusb INTERFACE PkgConfig::LIBUSB)
  add_library(u2c_cmocka INTERFACE)
  target_link_libraries(u2c_cmocka INTERFACE PkgConfig::CMOCKA)
  find_package(Threads REQUIRED)
endif()

# u2c_layer(<folder> [DEPENDS <layer>...])
# Builds <folder>/CMakeLists.txt, which defines the static library
# u2c_<folder>, and gives it its own folder and the layers it depends on as
# its only include directories (besides the public headers). The map is
# recorded for tests/layout, which checks every #include against it.
function(u2c_layer name)
  cmake_parse_arguments(L "" "" "DEPENDS" ${ARGN})
  add_subdirectory(${name})
  set(lib u2c_${name})
  target_include_directories(${lib} PUBLIC ${PROJECT_SOURCE_DIR}/${name})
  target_link_libraries(${lib} PUBLIC u2c_public)
  foreach(dep IN LISTS L_DEPENDS)
    target_link_libraries(${lib} PUBLIC u2c_${dep})
  endforeach()
  # The library code is linked into libusb2can.so: position independent, and
  # only the CANAL_API functions are visible outside it.
  set_target_properties(${lib} PROPERTIES POSITION_INDEPENDENT_CODE ON C_VISIBILITY_PRESET hidden)
  string(REPLACE ";" "," deps "${L_DEPENDS}")
  set_property(GLOBAL APPEND PROPERTY U2C_LAYER_MAP "${name}:${deps}")
endfunction()

# Windows binaries carry their C runtime support statically: no libgcc or
# libwinpthread DLL is needed next to them.
function(u2c_static_runtime target)
  if(WIN32)
    target_link_options(${target} PRIVATE -static -static-libgcc)
  endif()
endfunction()

# u2c_add_test(NAME name SOURCES a.c b.c [LIBS libs...] [TIMEOUT s] [LABELS l...])
# A cmocka test executable run by ctest (through Wine when cross-compiling).
function(u2c_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS;ARGS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} u2c_cmocka)
  target_include_directories(${T_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/tests/support)
  u2c_static_runtime(${T_NAME})
  add_test(NAME ${T_NAME} COMMAND ${T_NAME} ${T_ARGS})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "${T_LABELS}")
endfunction()
