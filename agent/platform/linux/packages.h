// Installed-package parsers: dpkg's status database and `rpm -qa` output.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "common/event_codec.h"

namespace rmm::agent::linux_proc {

struct PackageList {
  std::vector<codec::PackageInfo> packages;
  bool truncated = false;  // more were installed than the limits allowed
};

struct PackageLimits {
  std::size_t max_packages = 0;
  std::size_t max_bytes = 0;  // of names, versions and architectures together
};

// /var/lib/dpkg/status: every stanza whose Status ends in "installed" (not config-files,
// half-installed, ...), in file order.
PackageList parse_dpkg_status(std::string_view text, const PackageLimits& limits);

// `rpm -qa --qf '%{NAME}\t%{VERSION}-%{RELEASE}\t%{ARCH}\n'`, in output order; "(none)" arch
// (gpg-pubkey) becomes empty.
PackageList parse_rpm_qa(std::string_view text, const PackageLimits& limits);

}  // namespace rmm::agent::linux_proc
