#include "agent/platform/windows/output_decoder.h"

#include "common/platform/windows/wide_text.h"
#include "common/platform/windows/windows_api.h"

namespace rmm::agent::win {
namespace {

// The length of the UTF-8 sequence `lead` starts; 0 for a byte that cannot start one.
std::size_t utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

// How many bytes of `text` are complete UTF-8, or npos when it is not UTF-8. An incomplete
// sequence at the end is left out (it may complete with the next read).
std::size_t utf8_complete(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t n = utf8_length(c);
    if (n == 0) return std::string_view::npos;
    if (i + n > text.size()) {
      for (std::size_t k = i + 1; k < text.size(); ++k) {
        if ((static_cast<unsigned char>(text[k]) & 0xC0) != 0x80) return std::string_view::npos;
      }
      return i;
    }
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return std::string_view::npos;
    }
    // Overlong three- and four-byte forms and surrogates are not UTF-8 either.
    if (n >= 3) {
      const auto d = static_cast<unsigned char>(text[i + 1]);
      if ((c == 0xE0 && d < 0xA0) || (c == 0xED && d > 0x9F) || (c == 0xF0 && d < 0x90) ||
          (c == 0xF4 && d > 0x8F)) {
        return std::string_view::npos;
      }
    }
    i += n;
  }
  return i;
}

// How many bytes of `text` are whole characters of a double-byte code page: a lead byte at the
// end waits for its trail byte.
std::size_t code_page_complete(std::string_view text, UINT code_page) {
  std::size_t i = 0;
  while (i < text.size()) {
    const bool lead = ::IsDBCSLeadByteEx(code_page, static_cast<BYTE>(text[i])) != 0;
    if (lead && i + 1 == text.size()) return i;
    i += lead ? 2 : 1;
  }
  return text.size();
}

}  // namespace

OutputDecoder::OutputDecoder(std::uint32_t code_page)
    : code_page_(code_page == 0 ? ::GetOEMCP() : code_page) {}

std::string OutputDecoder::decode(std::string_view bytes, bool last) {
  pending_.append(bytes);
  std::string_view text = pending_;
  std::size_t complete = text.size();
  if (utf8_) {
    complete = utf8_complete(text);
    if (complete == std::string_view::npos) {
      utf8_ = false;
      complete = text.size();
    }
  }
  if (!utf8_) complete = code_page_complete(text, code_page_);
  if (last) complete = text.size();
  std::string out = utf8_ ? std::string(text.substr(0, complete))
                          : rmm::win::code_page_to_utf8(text.substr(0, complete), code_page_);
  if (utf8_ && last && complete > 0 && utf8_complete(text) != complete) {
    out = rmm::win::code_page_to_utf8(text, CP_UTF8);  // an unfinished character: U+FFFD
  }
  pending_.erase(0, complete);
  return out;
}

}  // namespace rmm::agent::win
