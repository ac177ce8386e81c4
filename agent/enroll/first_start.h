// Enrollment at the agent's first start, for machines whose installer cannot run
// `rmm-agent enroll` itself: the Windows MSI leaves the site's settings in the registry
// (site_settings.h) and starts nothing else. When the state directory has no identity yet and
// the settings hold an enrollment code, the agent enrolls with it (enroll_client.h) before it
// starts; once it has an identity, the code and the credential are removed from the registry
// (and the credential's file, when it was written from the registry).
//
// Where the pieces come from: the server is ServerUrl, else the agent's nats-url setting; the CA
// is CaPem (written to <state-dir>/ca.pem) or the file CaFile, else what `enroll` defaults to; the
// shared enrollment credential is EnrollCreds (written to <state-dir>/enroll.creds), else that
// file as an administrator copied it there.
//
// Concurrency: call once, before the agent opens its state (enrollment owns the state directory
// while it runs).
// Limitations: a failed enrollment is not retried here: the caller exits non-zero and its
// supervisor (rmm-watchdog, the service manager) starts it again.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "common/result.h"

namespace rmm::agent::enroll {

struct FirstStartOptions {
  std::filesystem::path state_dir;
  std::string nats_url;  // the agent's own setting: the server when the site settings name none
  std::string tls_server_name;
  std::chrono::milliseconds timeout{30'000};
};

enum class FirstStart {
  kAlreadyEnrolled,  // the state directory has an identity (a code or credential left is removed)
  kNoSettings,       // no identity and no code to enroll with: nothing done
  kEnrolled,         // enrolled now
};

// Errors: the settings cannot be read, no enrollment credential, or the enrollment failed
// (enroll()'s codes: kInvalidInput when the server refused, kTimeout without an answer).
Result<FirstStart> enroll_at_first_start(const FirstStartOptions& options);

}  // namespace rmm::agent::enroll
