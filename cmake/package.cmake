# The Windows packages: the portable zip (scripts/make-zip.sh) and the
# installer (scripts/make-installer.sh), each made from both Windows builds,
# windows-x86 and windows-x64, which are siblings under one build root
# (build/ for the presets). installer/ adds the targets that make them,
# tests/installer the tests that check them; both take the places from here.
if(NOT WIN32)
  return()
endif()

get_filename_component(U2C_BUILD_ROOT ${CMAKE_BINARY_DIR} DIRECTORY)
set(U2C_BUILD_X86 ${U2C_BUILD_ROOT}/windows-x86)
set(U2C_PACKAGE_ZIP ${U2C_BUILD_ROOT}/${PROJECT_NAME}-${PROJECT_VERSION}-windows.zip)
set(U2C_PACKAGE_SETUP ${U2C_BUILD_ROOT}/${PROJECT_NAME}-setup-${PROJECT_VERSION}.exe)

# What the scripts take from each build (scripts/lib/package.sh): the facts
# of CMakeLists.txt, so that the installer says what the DLL's version
# resource says.
file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/package.txt CONTENT
"product=${PROJECT_NAME}
version=${PROJECT_VERSION}
publisher=${U2C_PUBLISHER}
copyright=${U2C_COPYRIGHT}
")
