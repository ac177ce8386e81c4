// `rmm-api create-user`: the first owner's bootstrap (and a break-glass way to add a user).
//
//   rmm-api create-user --username=NAME --role=owner --password-file=FILE [--display-name=TEXT]
//                       [--if-no-user] [--pg-url=... --nats-url=... --nats-creds=...]
//
// Publishes UserCreated (actor "admin:<unix user>", source "api-cli") with the given role (an
// owner also gets the global scope), then writes the credential (Argon2id of the file's first
// line) into auth.credentials. The users row appears once the projector folds the event.
// --if-no-user: do nothing (exit 3) when auth.credentials already holds anyone.
// Exit codes: 0 created, 3 skipped (--if-no-user), 2 bad arguments, 1 failure (no database or
// broker, username taken, auth schema not migrated yet: retry).
#pragma once

namespace rmm::api {

int create_user_main(int argc, const char* const* argv);

}  // namespace rmm::api
