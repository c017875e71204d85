// Writes the edge-case traces of go119_edge_traces.h into a directory, one NAME.trace file
// each, for go119_export_test.sh. Usage: go119_edge_traces DIR

#include <cstdio>
#include <fstream>
#include <string>

#include "tests/go119_edge_traces.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: go119_edge_traces DIR\n");
    return 2;
  }
  for (const goro::testing_internal::EdgeTrace& t : goro::testing_internal::Go119EdgeTraces()) {
    const std::string path = std::string(argv[1]) + "/" + t.name + ".trace";
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(t.bytes.data(), static_cast<std::streamsize>(t.bytes.size()));
    out.close();
    if (!out) {
      std::fprintf(stderr, "go119_edge_traces: cannot write %s\n", path.c_str());
      return 1;
    }
  }
  return 0;
}
