// Paths and reads of tests/agent/fixtures/collectors (see its README for what is real and what is
// hand-made).
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "common/files.h"

namespace rmm::test {

inline std::filesystem::path collector_fixture_dir() {
  return std::filesystem::path(RMM_SOURCE_DIR) / "tests/agent/fixtures/collectors";
}

inline std::string collector_fixture(const std::string& name) {
  auto text = files::read_all(collector_fixture_dir() / name);
  REQUIRE_MESSAGE(text.has_value(), "missing fixture ", name);
  return *text;
}

}  // namespace rmm::test
