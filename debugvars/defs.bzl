"""Bazel macros that give a target GORODEBUG settings.

goro_cc_test(name, gorodebug = {"key": "value"}, ...) runs the test with
GORODEBUG="strict=1,key=value,..." in its environment, so a typo in the target's settings fails
that test at start (the test must use //debugvars:test_main or call
Registry::Global().Initialize() itself).

gorodebug_build_default = "key=value,..." (on goro_cc_test and goro_cc_binary) compiles the
string into the binary as its build-time default: goro's analogue of Go's //go:debug. It ranks
below the environment, so a user can still override it.
"""

def _gorodebug_env(gorodebug, strict):
    entries = ["strict=1"] if strict else []
    for key in sorted(gorodebug.keys()):
        value = gorodebug[key]
        if "," in key or "=" in key or "," in value or "=" in value:
            fail("gorodebug: key and value may not contain ',' or '=': %s=%s" % (key, value))
        entries.append("%s=%s" % (key, value))
    return ",".join(entries)

def _build_default_dep(name, build_default, testonly):
    if not build_default:
        return []
    if '"' in build_default or "\\" in build_default:
        fail("gorodebug_build_default may not contain quotes or backslashes")
    lib = name + "_gorodebug_build_default"
    native.cc_library(
        name = lib,
        srcs = ["//debugvars:build_default_stamp.cc"],
        local_defines = ['GORODEBUG_BUILD_DEFAULT=\\"%s\\"' % build_default],
        deps = ["//debugvars"],
        alwayslink = True,
        testonly = testonly,
    )
    return [":" + lib]

def goro_cc_test(name, gorodebug = {}, gorodebug_build_default = "", env = {}, deps = [], **kwargs):
    """A cc_test whose environment carries GORODEBUG=strict=1 plus `gorodebug`.

    Args:
      name: the test's name.
      gorodebug: dict of setting name to value, set through the GORODEBUG environment.
      gorodebug_build_default: a GORODEBUG string compiled in as the build-time default.
      env: further environment; must not set GORODEBUG itself.
      deps: as for cc_test.
      **kwargs: passed to cc_test.
    """
    if "GORODEBUG" in env:
        fail("goro_cc_test: use gorodebug = {...}, not env GORODEBUG")
    test_env = dict(env)
    test_env["GORODEBUG"] = _gorodebug_env(gorodebug, strict = True)
    native.cc_test(
        name = name,
        env = test_env,
        deps = deps + _build_default_dep(name, gorodebug_build_default, testonly = True),
        **kwargs
    )

def goro_cc_binary(name, gorodebug_build_default = "", deps = [], **kwargs):
    """A cc_binary with an optional build-time GORODEBUG default.

    Args:
      name: the binary's name.
      gorodebug_build_default: a GORODEBUG string compiled in as the build-time default.
      deps: as for cc_binary.
      **kwargs: passed to cc_binary.
    """
    native.cc_binary(
        name = name,
        deps = deps + _build_default_dep(name, gorodebug_build_default, testonly = kwargs.get("testonly", False)),
        **kwargs
    )
