// rmm-admin's tenancy and enrollment commands: create-client, create-site,
// create-enrollment-code, revoke-enrollment-code, revoke-agent. Each publishes one control event
// through rmm_tenancy's Intents and, given --pg-url, waits (bounded) until the projector has
// applied it, so the next command (or an enrolling agent) finds it in the read models. And
// push-account, which sends the RMM account JWT (with every revocation) to the broker again.
#pragma once

#include <span>

#include "common/config.h"

namespace rmm::admin {

std::span<const config::Setting> create_client_settings();
std::span<const config::Setting> create_site_settings();
std::span<const config::Setting> create_code_settings();
std::span<const config::Setting> revoke_code_settings();
std::span<const config::Setting> revoke_agent_settings();
std::span<const config::Setting> push_account_settings();

int run_create_client(const config::Values& v);
int run_create_site(const config::Values& v);
int run_create_code(const config::Values& v);
int run_revoke_code(const config::Values& v);
int run_revoke_agent(const config::Values& v);
int run_push_account(const config::Values& v);

}  // namespace rmm::admin
