# Warnings in the spirit of curl's CMake/PickyWarnings.cmake: every flag is
# checked first, so an older compiler simply goes without it.
include(CheckCCompilerFlag)
set(CRM_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wmissing-prototypes -Wstrict-prototypes -Wwrite-strings -Wvla -Wformat=2
    -Wundef -Wpointer-arith -Wcast-qual -Wold-style-definition)
foreach(flag ${CRM_WARNINGS})
  string(MAKE_C_IDENTIFIER "HAVE${flag}" var)
  check_c_compiler_flag(${flag} ${var})
  if(${var})
    add_compile_options(${flag})
  endif()
endforeach()
if(CRM_WERROR)
  add_compile_options(-Werror)
endif()
