#include "admin/tenancy/intents.h"

#include "admin/tenancy/enrollment_codes.h"

namespace rmm::tenancy {
namespace {

Status check_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameChars) {
    return fail(Error::Code::kInvalidInput, fmt::format("name must be 1-{} bytes", kMaxNameChars));
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      return fail(Error::Code::kInvalidInput, "name must not hold control characters");
    }
  }
  return {};
}

Status check_exists(Result<bool> exists, std::string_view what, std::string_view id) {
  if (!exists) return std::unexpected(exists.error());
  if (!*exists) return fail(Error::Code::kNotFound, fmt::format("{} {} does not exist", what, id));
  return {};
}

}  // namespace

Result<Created> Intents::create_client(std::string_view name, std::string_view actor) {
  if (auto s = check_name(name); !s) return std::unexpected(s.error());
  auto partner = PartnerId::parse(kDefaultPartnerId);
  if (!partner) return std::unexpected(partner.error());
  codec::ClientCreatedInfo info{ClientId::generate(clock_), *partner, std::string(name),
                                std::string(actor), impersonator_};
  auto ack = publisher_.publish(schema::Payload::ClientCreated, [&](const auto& h) {
    return codec::build_client_created(h, info);
  });
  if (!ack) return std::unexpected(ack.error());
  return Created{info.client.bytes(), ack->seq};
}

Result<Created> Intents::create_site(const ClientId& client, std::string_view name,
                                     std::string_view actor) {
  if (auto s = check_name(name); !s) return std::unexpected(s.error());
  if (read_model_ != nullptr) {
    if (auto s = check_exists(read_model_->client_exists(client), "client", client.str()); !s) {
      return std::unexpected(s.error());
    }
  }
  codec::SiteCreatedInfo info{SiteId::generate(clock_), client, std::string(name),
                              std::string(actor), impersonator_};
  auto ack = publisher_.publish(schema::Payload::SiteCreated,
                                [&](const auto& h) { return codec::build_site_created(h, info); });
  if (!ack) return std::unexpected(ack.error());
  return Created{info.site.bytes(), ack->seq};
}

Result<CreatedCode> Intents::create_enrollment_code(const SiteId& site,
                                                    std::chrono::milliseconds ttl,
                                                    std::string_view actor) {
  if (read_model_ != nullptr) {
    if (auto s = check_exists(read_model_->site_exists(site), "site", site.str()); !s) {
      return std::unexpected(s.error());
    }
  }
  std::string code = generate_enrollment_code();
  codec::EnrollmentCodeCreatedInfo info{
      EnrollmentCodeId::generate(clock_),
      site,
      enrollment_code_hash(*normalise_enrollment_code(code)),
      clock_.now() + std::chrono::duration_cast<std::chrono::nanoseconds>(ttl).count(),
      std::string(actor),
      impersonator_};
  auto ack = publisher_.publish(schema::Payload::EnrollmentCodeCreated, [&](const auto& h) {
    return codec::build_enrollment_code_created(h, info);
  });
  if (!ack) return std::unexpected(ack.error());
  return CreatedCode{info.code, std::move(code), info.expires_at, ack->seq};
}

Result<Created> Intents::revoke_enrollment_code(const EnrollmentCodeId& code,
                                                std::string_view actor) {
  if (read_model_ != nullptr) {
    auto row = read_model_->find_code(code);
    if (!row) return std::unexpected(row.error());
    if (!*row) {
      return fail(Error::Code::kNotFound,
                  fmt::format("enrollment code {} does not exist", code.str()));
    }
  }
  codec::EnrollmentCodeRevokedInfo info{code, std::string(actor), impersonator_};
  auto ack = publisher_.publish(schema::Payload::EnrollmentCodeRevoked, [&](const auto& h) {
    return codec::build_enrollment_code_revoked(h, info);
  });
  if (!ack) return std::unexpected(ack.error());
  return Created{code.bytes(), ack->seq};
}

Result<RevokedAgent> Intents::revoke_agent(const AgentId& agent, std::string_view actor,
                                           std::string_view reason) {
  if (read_model_ == nullptr) return fail("revoking an agent needs the read model (its keys)");
  auto row = read_model_->find_agent(agent);
  if (!row) return std::unexpected(row.error());
  if (!*row) {
    return fail(Error::Code::kNotFound, fmt::format("agent {} does not exist", agent.str()));
  }
  auto keys = read_model_->agent_public_keys(agent);
  if (!keys) return std::unexpected(keys.error());
  if (keys->empty()) {
    return fail(Error::Code::kConflict,
                fmt::format("agent {} has no enrolled key (credential minted by rmm-admin "
                            "agent-credential?): nothing to revoke",
                            agent.str()));
  }
  codec::AgentRevokedInfo info{agent, *keys, std::string(actor), std::string(reason),
                               impersonator_};
  auto ack = publisher_.publish(schema::Payload::AgentRevoked,
                                [&](const auto& h) { return codec::build_agent_revoked(h, info); });
  if (!ack) return std::unexpected(ack.error());
  return RevokedAgent{std::move(*keys), ack->seq};
}

}  // namespace rmm::tenancy
