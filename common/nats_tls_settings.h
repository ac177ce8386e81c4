// The two settings every NATS client program declares for TLS, and their values as
// TlsClientOptions. Declared once here so every program describes them the same way.
#pragma once

#include "common/config.h"
#include "common/nats_tls.h"

namespace rmm::nats {

inline constexpr config::Setting kNatsCaSetting{
    "nats-ca", config::Type::kString, "",
    "CA file to pin for NATS: TLS required, only this CA trusted; empty: plaintext, loopback "
    "URLs only"};
inline constexpr config::Setting kNatsTlsNameSetting{
    "nats-tls-name", config::Type::kString, "",
    "name the NATS server's certificate must carry (default: the URL's host)"};

inline TlsClientOptions tls_options(const config::Values& v) {
  return {.ca_file = v.str(kNatsCaSetting.name), .server_name = v.str(kNatsTlsNameSetting.name)};
}

}  // namespace rmm::nats
