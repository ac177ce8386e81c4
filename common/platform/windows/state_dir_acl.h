// The access control list of the agent's state directory (common/secure_dir.h), apart from
// applying it so tests can check what is asked for even where the file system does not keep it
// (Wine maps a file's DACL to Unix mode bits and reads back a synthesized one).
#pragma once

#include <vector>

#include "common/result.h"

namespace rmm::win {

// An ACL of two entries, SYSTEM and Administrators with full control, inherited by files and
// subdirectories: the bytes of an ACL structure.
Result<std::vector<unsigned char>> state_dir_dacl();

}  // namespace rmm::win
