// rmm-admin's site leaf node commands (admin/leaf_config.h, docs/operations.md "Sites with poor
// links: leaf nodes"): render-leaf-config, leaf-credential, site-source.
#pragma once

#include <span>

#include "common/config.h"

namespace rmm::admin {

std::span<const config::Setting> render_leaf_settings();
std::span<const config::Setting> leaf_credential_settings();
std::span<const config::Setting> site_source_settings();

int run_render_leaf(const config::Values& v);
int run_leaf_credential(const config::Values& v);
int run_site_source(const config::Values& v);

}  // namespace rmm::admin
