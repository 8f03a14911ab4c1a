# CMake toolchain file for the Windows lane: cross-build for 64-bit Windows with Debian's mingw-w64 and
# run what was built (try_run, ctest) under wine64. See docs/WINDOWS.md.
#
#   cmake -S tests/windows -B build-win -DCMAKE_TOOLCHAIN_FILE=$PWD/cmake/mingw-w64-x86_64.cmake
#
# OBAGENT_WIN_DEPS: the prefix .ci/windows-deps built (include/, lib/, bin/ with the DLLs). Default:
#   the environment variable of that name, else ${OBAGENT_WIN_CACHE}/current, where OBAGENT_WIN_CACHE is
#   the environment variable of that name, else ~/.cache/obagent/win64 (the script's default).
# OBAGENT_WINEPREFIX: the private Wine prefix the emulator uses. Default: ${OBAGENT_WIN_CACHE}/wine.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(OBAGENT_WIN_TRIPLE x86_64-w64-mingw32)

if(NOT OBAGENT_WIN_CACHE)
  if(DEFINED ENV{OBAGENT_WIN_CACHE} AND NOT "$ENV{OBAGENT_WIN_CACHE}" STREQUAL "")
    set(OBAGENT_WIN_CACHE "$ENV{OBAGENT_WIN_CACHE}")
  else()
    set(OBAGENT_WIN_CACHE "$ENV{HOME}/.cache/obagent/win64")
  endif()
endif()
if(NOT OBAGENT_WIN_DEPS)
  if(DEFINED ENV{OBAGENT_WIN_DEPS} AND NOT "$ENV{OBAGENT_WIN_DEPS}" STREQUAL "")
    set(OBAGENT_WIN_DEPS "$ENV{OBAGENT_WIN_DEPS}")
  else()
    set(OBAGENT_WIN_DEPS "${OBAGENT_WIN_CACHE}/current")
  endif()
endif()
# A symlink (current -> <key>) resolved once, so that build trees name the exact key they used.
get_filename_component(OBAGENT_WIN_DEPS "${OBAGENT_WIN_DEPS}" REALPATH)
if(NOT OBAGENT_WINEPREFIX)
  set(OBAGENT_WINEPREFIX "${OBAGENT_WIN_CACHE}/wine")
endif()
set(OBAGENT_WIN_DEPS "${OBAGENT_WIN_DEPS}" CACHE PATH "Windows dependencies built by .ci/windows-deps")
set(OBAGENT_WINEPREFIX "${OBAGENT_WINEPREFIX}" CACHE PATH "private Wine prefix for running tests")
# try_compile projects re-read this file: hand them the same values.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES OBAGENT_WIN_CACHE OBAGENT_WIN_DEPS OBAGENT_WINEPREFIX)

# Debian's default alternative is the win32-threads flavour of gcc (no libwinpthread dependency).
set(CMAKE_C_COMPILER ${OBAGENT_WIN_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${OBAGENT_WIN_TRIPLE}-g++)
set(CMAKE_RC_COMPILER ${OBAGENT_WIN_TRIPLE}-windres)
set(CMAKE_AR ${OBAGENT_WIN_TRIPLE}-ar CACHE FILEPATH "")
set(CMAKE_RANLIB ${OBAGENT_WIN_TRIPLE}-ranlib CACHE FILEPATH "")

# gcc links libgcc_s_seh-1.dll into a DLL that unwinds (cmocka, for its longjmp): link libgcc
# statically everywhere, so that no mingw runtime DLL has to ship next to obagent's.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static-libgcc")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static-libgcc")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-static-libgcc")

# Headers, libraries and CMake packages come only from the mingw sysroot and the deps prefix; build
# tools (perl, python, wine) from the host.
set(CMAKE_FIND_ROOT_PATH /usr/${OBAGENT_WIN_TRIPLE} "${OBAGENT_WIN_DEPS}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Run Windows executables with wine64 (Debian keeps it in /usr/lib/wine), quiet, in the private prefix,
# with the deps' DLLs on the search path (WINEPATH) so a test finds them without copying.
find_program(OBAGENT_WINE64 NAMES wine64 PATHS /usr/lib/wine /usr/lib64/wine NO_CMAKE_FIND_ROOT_PATH)
if(OBAGENT_WINE64)
  set(CMAKE_CROSSCOMPILING_EMULATOR
      /usr/bin/env WINEDEBUG=-all WINEPREFIX=${OBAGENT_WINEPREFIX} WINEPATH=Z:${OBAGENT_WIN_DEPS}/bin
      ${OBAGENT_WINE64})
endif()
