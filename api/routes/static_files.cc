#include "api/routes/static_files.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <iterator>
#include <utility>

#include "api/problem.h"
#include "common/log.h"

namespace rmm::api {
namespace fs = std::filesystem;

namespace {

constexpr std::uintmax_t kMaxFileBytes = 32u << 20;

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// True when every segment of `path` is a plain name: no "..", no NUL, no backslash.
bool is_safe_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  if (path.find('\0') != std::string_view::npos || path.find('\\') != std::string_view::npos) {
    return false;
  }
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (path.substr(start, end - start) == "..") return false;
    start = end + 1;
  }
  return true;
}

bool is_inside(const fs::path& root, const fs::path& p) {
  auto [r, q] = std::mismatch(root.begin(), root.end(), p.begin(), p.end());
  return r == root.end() && q != p.end();
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;
    int hi = hex_digit(in[i + 1]);
    int lo = hex_digit(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi << 4 | lo));
    i += 2;
  }
  return out;
}

std::string_view content_type_for(const fs::path& file) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kTypes = {{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json"},
      {".woff2", "font/woff2"},
      {".webp", "image/webp"},
  }};
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& [e, type] : kTypes) {
    if (e == ext) return type;
  }
  return "application/octet-stream";
}

StaticFiles::StaticFiles(fs::path web_dir) {
  std::error_code ec;
  root_ = fs::canonical(web_dir, ec);
  if (ec || !fs::is_directory(root_)) {
    log::warn("web_dir.missing", {{"path", web_dir.string()}});
    root_.clear();
  }
}

Response StaticFiles::get(const Request& req, std::string_view path,
                          const RequestContext& ctx) const {
  auto decoded = percent_decode(path);
  if (!decoded || !is_safe_path(*decoded)) {
    return make_problem(http::status::bad_request, "the path is not allowed", ctx, req.version());
  }
  auto not_found = [&] {
    return make_problem(http::status::not_found, "no such resource", ctx, req.version());
  };
  if (root_.empty()) return not_found();
  std::string relative = decoded->substr(1);
  if (relative.empty() || relative.back() == '/') relative += "index.html";

  std::error_code ec;
  fs::path real = fs::canonical(root_ / relative, ec);
  if (ec || !is_inside(root_, real)) return not_found();
  auto status = fs::status(real, ec);
  if (ec || !fs::is_regular_file(status)) return not_found();
  auto size = fs::file_size(real, ec);
  if (ec || size > kMaxFileBytes) return not_found();

  std::ifstream in(real, std::ios::binary);
  std::string body{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (!in.good() && !in.eof()) return internal_error(ctx, req.version());

  Response res{http::status::ok, req.version()};
  res.set(http::field::content_type, content_type_for(real));
  res.set(http::field::cache_control, "no-cache");
  res.set("X-Content-Type-Options", "nosniff");
  if (real.extension() == ".html") {
    res.set("Content-Security-Policy",
            "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'");
  }
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

}  // namespace rmm::api
