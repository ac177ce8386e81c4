// rmm-projector rebuild's pieces that need no servers.
#include <doctest/doctest.h>

#include "projector/rebuild/read_model_schema.h"
#include "projector/rebuild/verify.h"

TEST_CASE("scratch schema names are distinct per prefix and valid identifiers") {
  auto a = rmm::projector::rebuild::scratch_schema_name("rmm_rebuild");
  auto b = rmm::projector::rebuild::scratch_schema_name("rmm_verify");
  CHECK(a.starts_with("rmm_rebuild_"));
  CHECK(b.starts_with("rmm_verify_"));
  for (char c : a) CHECK(((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'));
}

TEST_CASE("the verify report lists each difference and the totals") {
  rmm::projector::rebuild::VerifyReport r;
  r.tables = {"agents", "metrics"};
  r.differences.push_back({.table = "agents",
                           .live_rows = 2,
                           .rebuilt_rows = 2,
                           .note = "",
                           .only_live = {"(1,a)"},
                           .only_rebuilt = {"(1,b)"}});
  CHECK_FALSE(r.equal());
  auto text = rmm::projector::rebuild::format_report(r);
  CHECK(text.find("table agents: 2 live rows, 2 rebuilt rows") != std::string::npos);
  CHECK(text.find("only live:    (1,a)") != std::string::npos);
  CHECK(text.find("only rebuilt: (1,b)") != std::string::npos);
  CHECK(text.find("2 tables compared, 1 differ") != std::string::npos);
}
