"""Compiler options for goro's own code, kept in one place.

The language level and frame pointers are set for every target in .bazelrc; these are the
warnings our code must be clean of. System headers (/usr/include) are outside -Werror.
"""

GORO_COPTS = [
    "-Wall",
    "-Wextra",
    "-Wshadow",
    "-Wnon-virtual-dtor",
    "-Wno-unused-parameter",
    "-Werror",
]
