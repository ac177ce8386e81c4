// Serves the dashboard's static files from web-dir: GET / is index.html, GET /a/b.js is
// <web-dir>/a/b.js.
//
// Only regular files whose real path (symlinks resolved) lies inside web-dir are served; a
// target with a ".." segment (also when percent-encoded), a NUL or a backslash is refused with
// 400 before the file system is touched.
//
// Concurrency: get() reads the file with blocking I/O; thread-safe.
// Limitations: whole files are read into memory (capped at 32 MiB); no ETag or range support.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "api/server/http.h"

namespace rmm::api {

class StaticFiles {
 public:
  explicit StaticFiles(std::filesystem::path web_dir);

  // `path` is the request target without its query string.
  Response get(const Request& req, std::string_view path, const RequestContext& ctx) const;

 private:
  std::filesystem::path root_;  // canonical, or empty when web-dir does not exist
};

// "%2e%2E" -> "..". std::nullopt for a malformed escape.
std::optional<std::string> percent_decode(std::string_view in);

// The MIME type for a file name's extension ("application/octet-stream" when unknown).
std::string_view content_type_for(const std::filesystem::path& file);

}  // namespace rmm::api
