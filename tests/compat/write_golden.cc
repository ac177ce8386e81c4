// Writes the golden events of the current schema version into a folder. Run once when a schema
// version is cut (tests/compat/README.md); the files are committed and never rewritten.
#include <cstdio>
#include <fstream>

#include "tests/compat/golden_events.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: write_golden <dir>\n");
    return 2;
  }
  for (const auto& [name, bytes] : rmm::golden::v1_events()) {
    std::ofstream out(std::string(argv[1]) + "/" + name, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    if (!out) return 1;
  }
  return 0;
}
