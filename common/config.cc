#include "common/config.h"

#include <cstdlib>
#include <stdexcept>

namespace rmm::config {
namespace {

constexpr std::string_view type_name(Type t) {
  switch (t) {
    case Type::kString:
      return "string";
    case Type::kInt:
      return "integer";
    case Type::kDuration:
      return "duration";
    case Type::kBool:
      return "bool";
    case Type::kSize:
      return "size";
  }
  return "?";
}

Result<std::int64_t> parse_int(std::string_view text) {
  if (text.empty()) return fail("empty integer");
  std::int64_t v = 0;
  bool neg = text.front() == '-';
  std::size_t i = neg ? 1 : 0;
  if (i == text.size()) return fail("not an integer");
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c < '0' || c > '9') return failf("not an integer: '{}'", text);
    if (v > (std::numeric_limits<std::int64_t>::max() - (c - '0')) / 10) {
      return failf("integer out of range: '{}'", text);
    }
    v = v * 10 + (c - '0');
  }
  return neg ? -v : v;
}

}  // namespace

Result<std::int64_t> check_value(const Setting& spec, std::string_view value) {
  std::int64_t n = 0;
  switch (spec.type) {
    case Type::kString:
      return 0;
    case Type::kBool:
      if (value == "true" || value == "1" || value == "yes") return 1;
      if (value == "false" || value == "0" || value == "no") return 0;
      return failf("expected true or false, got '{}'", value);
    case Type::kInt: {
      auto v = parse_int(value);
      if (!v) return std::unexpected(v.error());
      n = *v;
      break;
    }
    case Type::kDuration: {
      auto d = parse_duration(value);
      if (!d) return std::unexpected(d.error());
      n = d->count();
      break;
    }
    case Type::kSize: {
      auto b = parse_size(value);
      if (!b) return std::unexpected(b.error());
      n = *b;
      break;
    }
  }
  if (n < spec.min || n > spec.max) {
    return failf("'{}' is outside the allowed range [{}, {}]{}", value, spec.min, spec.max,
                 spec.type == Type::kDuration ? " (milliseconds)"
                 : spec.type == Type::kSize   ? " (bytes)"
                                              : "");
  }
  return n;
}

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return failf("not a duration: '{}' (use e.g. 500ms, 30s, 5m, 2h, 400d)", text);
  auto n = parse_int(text.substr(0, digits));
  if (!n) return std::unexpected(n.error());
  std::string_view unit = text.substr(digits);
  std::int64_t scale = 0;
  if (unit == "ms")
    scale = 1;
  else if (unit == "s")
    scale = 1000;
  else if (unit == "m")
    scale = 60'000;
  else if (unit == "h")
    scale = 3'600'000;
  else if (unit == "d")
    scale = 86'400'000;
  else
    return failf("not a duration: '{}' (unit must be ms, s, m, h or d)", text);
  if (*n > std::numeric_limits<std::int64_t>::max() / scale)
    return failf("duration too long: '{}'", text);
  return std::chrono::milliseconds(*n * scale);
}

Result<std::int64_t> parse_size(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return failf("not a size: '{}' (use e.g. 4096, 512MiB, 20GiB, 2TiB)", text);
  auto n = parse_int(text.substr(0, digits));
  if (!n) return std::unexpected(n.error());
  std::string_view unit = text.substr(digits);
  int shift = 0;
  if (unit.empty())
    shift = 0;
  else if (unit == "KiB")
    shift = 10;
  else if (unit == "MiB")
    shift = 20;
  else if (unit == "GiB")
    shift = 30;
  else if (unit == "TiB")
    shift = 40;
  else
    return failf("not a size: '{}' (unit must be KiB, MiB, GiB or TiB, or none for bytes)", text);
  if (*n > (std::numeric_limits<std::int64_t>::max() >> shift))
    return failf("size too large: '{}'", text);
  return *n << shift;
}

std::string env_name(std::string_view name) {
  std::string out = "RMM_";
  for (char c : name) {
    out.push_back(c == '-' || c == '.'
                      ? '_'
                      : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

const Setting* find_setting(std::span<const Setting> specs, std::string_view name) {
  for (const auto& s : specs) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

Result<Values> Values::load(std::span<const Setting> specs, int argc, const char* const* argv) {
  Values v;
  std::map<std::string, std::string, std::less<>> from_flags;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      v.help_ = true;
      continue;
    }
    if (!arg.starts_with("--")) {
      v.positional_.emplace_back(arg);
      continue;
    }
    arg.remove_prefix(2);
    std::string_view name = arg;
    std::string value;
    bool has_value = false;
    if (auto eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = std::string(arg.substr(eq + 1));
      has_value = true;
    }
    const Setting* spec = find_setting(specs, name);
    if (spec == nullptr) return failf("unknown option '--{}' (see --help)", name);
    if (!has_value) {
      if (spec->type == Type::kBool) {
        value = "true";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return failf("option '--{}' needs a value", name);
      }
    }
    from_flags[std::string(name)] = value;
  }
  for (const auto& spec : specs) {
    std::string value(spec.default_value);
    if (const char* env = std::getenv(env_name(spec.name).c_str()); env != nullptr) value = env;
    if (auto it = from_flags.find(spec.name); it != from_flags.end()) value = it->second;
    if (value.empty()) {
      if (spec.required && !v.help_) {
        return failf("setting '{}' is required (--{} or {})", spec.name, spec.name,
                     env_name(spec.name));
      }
      if (spec.type == Type::kString) {
        v.raw_[std::string(spec.name)] = value;
        continue;
      }
      if (v.help_) continue;
      return failf("setting '{}' has no value", spec.name);
    }
    auto n = check_value(spec, value);
    if (!n) return failf("setting '{}': {}", spec.name, n.error().message);
    v.raw_[std::string(spec.name)] = value;
    v.numbers_[std::string(spec.name)] = *n;
  }
  return v;
}

const std::string& Values::str(std::string_view name) const {
  auto it = raw_.find(name);
  if (it == raw_.end()) throw std::logic_error(fmt::format("undeclared setting '{}'", name));
  return it->second;
}

std::int64_t Values::integer(std::string_view name) const {
  auto it = numbers_.find(name);
  if (it == numbers_.end()) throw std::logic_error(fmt::format("undeclared setting '{}'", name));
  return it->second;
}

std::chrono::milliseconds Values::duration(std::string_view name) const {
  return std::chrono::milliseconds(integer(name));
}

std::int64_t Values::size(std::string_view name) const {
  return integer(name);
}

bool Values::flag(std::string_view name) const {
  return integer(name) != 0;
}

std::string usage(std::string_view usage_line, std::string_view summary,
                  std::span<const Setting> specs) {
  std::string out = fmt::format("usage: {}\n\n{}\n\noptions (flag, or environment variable):\n",
                                usage_line, summary);
  for (const auto& s : specs) {
    out += fmt::format(
        "  --{:<24} {}\n  {:<26} {} {}{}\n", s.name, s.description, "", type_name(s.type),
        env_name(s.name),
        s.required ? ", required"
                   : (s.default_value.empty() ? std::string()
                                              : fmt::format(", default {}", s.default_value)));
  }
  out += "  --help                     this text\n";
  return out;
}

std::string markdown_reference(std::string_view program, std::span<const Setting> specs) {
  std::string out = fmt::format(
      "### {}\n\n| setting | env | type | default | description |\n"
      "|---|---|---|---|---|\n",
      program);
  for (const auto& s : specs) {
    out += fmt::format(
        "| `--{}` | `{}` | {} | {} | {} |\n", s.name, env_name(s.name), type_name(s.type),
        s.required ? "required" : fmt::format("`{}`", s.default_value), s.description);
  }
  return out;
}

}  // namespace rmm::config
