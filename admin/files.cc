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

}  // namespace rmm::broker
