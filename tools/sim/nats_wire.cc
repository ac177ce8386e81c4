#include "tools/sim/nats_wire.h"

#include <charconv>
#include <vector>

namespace rmm::sim {

namespace {

std::vector<std::string_view> split_spaces(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

bool to_size(std::string_view s, std::size_t& v) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    if (c != prefix[i]) return false;
  }
  return true;
}

}  // namespace

bool WireParser::next(ServerOp& op, bool& error) {
  error = false;
  if (consumed_ > 0 && consumed_ >= buffer_.size() / 2) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  std::string_view view(buffer_);
  view.remove_prefix(consumed_);
  auto eol = view.find("\r\n");
  if (eol == std::string_view::npos) {
    if (view.size() > 1 << 20) error = true;  // no line is this long
    return false;
  }
  std::string_view line = view.substr(0, eol);
  std::size_t after_line = eol + 2;
  op = ServerOp{};
  if (starts_with_ci(line, "MSG ") || starts_with_ci(line, "HMSG ")) {
    bool with_headers = starts_with_ci(line, "HMSG ");
    auto parts = split_spaces(line);
    // MSG <subject> <sid> [reply] <size>; HMSG <subject> <sid> [reply] <hdr size> <total size>
    std::size_t fixed = with_headers ? 6 : 5;  // with a reply subject
    if (parts.size() != fixed && parts.size() != fixed - 1) {
      error = true;
      return false;
    }
    bool has_reply = parts.size() == fixed;
    std::size_t total = 0, header_size = 0;
    if (!to_size(parts.back(), total) ||
        (with_headers && !to_size(parts[parts.size() - 2], header_size)) || header_size > total) {
      error = true;
      return false;
    }
    if (view.size() < after_line + total + 2) return false;  // wait for the body
    op.kind = ServerOp::Kind::kMsg;
    op.subject = parts[1];
    op.reply = has_reply ? parts[3] : std::string_view{};
    std::string_view body = view.substr(after_line, total);
    op.headers = body.substr(0, header_size);
    op.payload = body.substr(header_size);
    consumed_ += after_line + total + 2;
    return true;
  }
  consumed_ += after_line;
  if (starts_with_ci(line, "PING")) {
    op.kind = ServerOp::Kind::kPing;
  } else if (starts_with_ci(line, "PONG")) {
    op.kind = ServerOp::Kind::kPong;
  } else if (starts_with_ci(line, "+OK")) {
    op.kind = ServerOp::Kind::kOk;
  } else if (starts_with_ci(line, "-ERR")) {
    op.kind = ServerOp::Kind::kErr;
    op.payload = line.size() > 5 ? line.substr(5) : std::string_view{};
  } else if (starts_with_ci(line, "INFO")) {
    op.kind = ServerOp::Kind::kInfo;
    op.payload = line.size() > 5 ? line.substr(5) : std::string_view{};
  } else {
    error = true;
    return false;
  }
  return true;
}

std::string info_nonce(std::string_view info_json) {
  auto key = info_json.find("\"nonce\"");
  if (key == std::string_view::npos) return {};
  auto open = info_json.find('"', info_json.find(':', key) + 1);
  if (open == std::string_view::npos) return {};
  auto close = info_json.find('"', open + 1);
  if (close == std::string_view::npos) return {};
  return std::string(info_json.substr(open + 1, close - open - 1));
}

std::string connect_op(std::string_view jwt, std::string_view signature_b64,
                       std::string_view name) {
  std::string s = "CONNECT {\"verbose\":false,\"pedantic\":false,\"tls_required\":false,";
  s += "\"lang\":\"rmm-sim\",\"version\":\"0.1\",\"protocol\":1,\"headers\":true,";
  s += "\"no_responders\":true,\"echo\":false,\"name\":\"";
  s += name;
  s += "\",\"jwt\":\"";
  s += jwt;
  s += "\",\"sig\":\"";
  s += signature_b64;
  s += "\"}\r\nPING\r\n";
  return s;
}

void append_hpub(std::string& out, std::string_view subject, std::string_view reply,
                 std::string_view msg_id, std::string_view payload) {
  std::string headers = "NATS/1.0\r\nNats-Msg-Id: ";
  headers += msg_id;
  headers += "\r\n\r\n";
  out += "HPUB ";
  out += subject;
  out += ' ';
  if (!reply.empty()) {
    out += reply;
    out += ' ';
  }
  out += std::to_string(headers.size());
  out += ' ';
  out += std::to_string(headers.size() + payload.size());
  out += "\r\n";
  out += headers;
  out += payload;
  out += "\r\n";
}

}  // namespace rmm::sim
