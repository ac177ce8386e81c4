// `rmm-agent trust-command-keys KEY...`: sets the command keys this agent trusts from the machine
// itself (whoever can write the state directory is root there already). For agents enrolled
// before commands were signed, and for pinning the keys at install time instead of taking them
// from the enrollment reply. Stop the agent first: it reads the file at start.
#pragma once

namespace rmm::agent {

// argv[0] is "trust-command-keys". Exit codes: 0 written (prints the key ids), 1 failed, 2 usage.
int run_trust_keys_command(int argc, const char* const* argv);

}  // namespace rmm::agent
