"""fuzz_corpus_test: a libFuzzer target's seed corpus replayed as a regression test.

fuzz_corpus_test(name = "X", deps = [...]) makes the filegroup X_fuzz_corpus (the files of
tests/fuzz/corpus/X/) and the cc_test X_fuzzer_corpus_test, which builds
tests/fuzz/X_fuzzer.cc with the corpus driver (any compiler, any sanitizer) and feeds it
every seed. Fuzzing proper: tests/fuzz/run_fuzzer.sh X SECONDS.
"""

load("//:copts.bzl", "GORO_COPTS")

def fuzz_corpus_test(name, deps):
    corpus = name + "_fuzz_corpus"
    native.filegroup(
        name = corpus,
        srcs = native.glob(["fuzz/corpus/%s/*" % name]),
    )
    native.cc_test(
        name = name + "_fuzzer_corpus_test",
        size = "small",
        tags = ["single_threaded"],
        srcs = [
            "fuzz/corpus_driver.cc",
            "fuzz/fuzz_check.h",
            "fuzz/%s_fuzzer.cc" % name,
        ],
        args = ["$(locations :%s)" % corpus],
        copts = GORO_COPTS,
        data = [":" + corpus],
        deps = deps,
    )
