// The public-key pin of a TLS server certificate, in curl's --pinnedpubkey form:
// "sha256//" + base64(SHA-256(DER SubjectPublicKeyInfo)). The one-line installer pins rmm-api's
// key with it, since a new machine does not yet trust the installation's private CA.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"

namespace rmm::api::install {

// The pin of the first certificate in the PEM file `cert_pem` (a leaf first, as served).
Result<std::string> public_key_pin(const std::filesystem::path& cert_pem);
// The same from PEM text.
Result<std::string> public_key_pin_of_pem(std::string_view pem);

}  // namespace rmm::api::install
