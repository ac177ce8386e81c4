#include "admin/files.h"

#include <fmt/format.h>

namespace rmm::broker {

std::string format_creds(std::string_view user_jwt, std::string_view user_seed) {
  return fmt::format(
      "-----BEGIN NATS USER JWT-----\n{}\n------END NATS USER JWT------\n\n"
      "************************* IMPORTANT *************************\n"
      "NKEY Seed printed below can be used to sign and prove identity.\n"
      "NKEYs are sensitive and should be treated as secrets.\n\n"
      "-----BEGIN USER NKEY SEED-----\n{}\n------END USER NKEY SEED------\n\n"
      "*************************************************************\n",
      user_jwt, user_seed);
}

Result<KeyPair> key_from_creds(std::string_view creds_text) {
  constexpr std::string_view kBegin = "-----BEGIN USER NKEY SEED-----";
  auto at = creds_text.find(kBegin);
  if (at == std::string_view::npos) {
    return fail(Error::Code::kInvalidInput, "the credentials hold no user seed");
  }
  auto start = creds_text.find_first_not_of("\r\n", at + kBegin.size());
  if (start == std::string_view::npos) {
    return fail(Error::Code::kInvalidInput, "the credentials' seed block is empty");
  }
  auto end = creds_text.find_first_of("\r\n", start);
  auto seed = creds_text.substr(start, end == std::string_view::npos ? end : end - start);
  auto key = KeyPair::from_seed(seed);
  if (!key || key->role() != KeyRole::kUser) {
    return fail(Error::Code::kInvalidInput, "the credentials' seed is not a user seed");
  }
  return key;
}

}  // namespace rmm::broker
