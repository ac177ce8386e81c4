// NATS server URL lists: every program's `nats-url` setting may name several servers of one
// cluster, comma-separated ("nats://a:4222,nats://b:4222"); nats.c 3.4.1's natsOptions_SetURL
// takes one URL only (a list there fails every connect with "no server available"), so a list
// goes to natsOptions_SetServers instead. nats.c then connects to one of them and, when that
// server dies, reconnects to another (and to servers the cluster announces).
//
// Concurrency: pure functions.
#pragma once

#include <nats/nats.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace rmm::nats {

// The URLs of a comma-separated list, trimmed of blanks; an empty entry or more than 64 URLs is
// an error.
Result<std::vector<std::string>> split_urls(std::string_view urls);

// Gives `opts` the server(s) of `urls`: one URL as the URL, several as the server list.
Status set_server_urls(natsOptions* opts, std::string_view urls);

}  // namespace rmm::nats
