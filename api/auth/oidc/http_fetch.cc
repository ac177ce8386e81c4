#include "api/auth/oidc/http_fetch.h"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace rmm::api::oidc {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Runs one asynchronous operation to completion on `ioc`. The stream's deadline (tcp_stream
// expiry) ends any step that hangs; the resolver is bounded by run_for.
template <class Start>
beast::error_code run_one(asio::io_context& ioc, Start start) {
  beast::error_code out = asio::error::would_block;
  start([&out](beast::error_code ec, auto&&...) { out = ec; });
  ioc.restart();
  ioc.run();
  return out;
}

Result<FetchResponse> failed(std::string_view step, const beast::error_code& ec) {
  if (ec == beast::error::timeout || ec == asio::error::operation_aborted) {
    return fail(Error::Code::kTimeout, fmt::format("{}: timed out", step));
  }
  return failf("{}: {}", step, ec.message());
}

template <class Stream>
Result<FetchResponse> exchange(asio::io_context& ioc, Stream& stream, const FetchRequest& request,
                               const FetchOptions& options) {
  http::request<http::string_body> req{http::string_to_verb(request.method), request.url.target,
                                       11};
  std::string host = request.url.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  bool default_port = request.url.port == (request.url.https ? 443 : 80);
  req.set(http::field::host, default_port ? host : host + ":" + std::to_string(request.url.port));
  req.set(http::field::user_agent, "rmm-api");
  req.set(http::field::accept, "application/json");
  for (const auto& [k, v] : request.headers) req.set(k, v);
  if (!request.body.empty() || request.method == "POST") req.body() = request.body;
  req.prepare_payload();
  if (auto ec = run_one(ioc, [&](auto h) { http::async_write(stream, req, h); })) {
    return failed("sending the request", ec);
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(options.max_body);
  parser.header_limit(16 * 1024);
  if (auto ec = run_one(ioc, [&](auto h) { http::async_read(stream, buffer, parser, h); })) {
    return failed("reading the response", ec);
  }
  auto res = parser.release();
  FetchResponse out;
  out.status = static_cast<int>(res.result_int());
  out.content_type = std::string(res[http::field::content_type]);
  out.body = std::move(res.body());
  return out;
}

}  // namespace

Result<FetchResponse> http_fetch(const FetchRequest& request, const FetchOptions& options) {
  const Url& url = request.url;
  if (!url.https && !is_loopback_host(url.host)) {
    return fail(Error::Code::kInvalidInput, "plain http is allowed only to a loopback host");
  }
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  tcp::resolver::results_type endpoints;
  beast::error_code resolve_ec = asio::error::would_block;
  resolver.async_resolve(url.host, std::to_string(url.port),
                         [&](beast::error_code ec, tcp::resolver::results_type r) {
                           resolve_ec = ec;
                           endpoints = std::move(r);
                         });
  ioc.run_for(options.timeout);
  if (resolve_ec == asio::error::would_block) {
    resolver.cancel();
    ioc.restart();
    ioc.run();
    return fail(Error::Code::kTimeout, "resolving the provider's host: timed out");
  }
  if (resolve_ec) return failed("resolving the provider's host", resolve_ec);
  if (!url.https) {
    beast::tcp_stream stream(ioc);
    stream.expires_after(options.timeout);
    if (auto ec = run_one(ioc, [&](auto h) { stream.async_connect(endpoints, h); })) {
      return failed("connecting", ec);
    }
    return exchange(ioc, stream, request, options);
  }

  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                  asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                  asio::ssl::context::no_tlsv1_1);
  beast::error_code ec;
  tls.set_default_verify_paths(ec);
  if (ec) return failed("loading the system's trusted certificates", ec);
  if (!options.ca_file.empty()) {
    tls.load_verify_file(options.ca_file, ec);
    if (ec) return failed("loading the CA file", ec);
  }
  tls.set_verify_mode(asio::ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(ioc, tls);
  stream.set_verify_callback(asio::ssl::host_name_verification(url.host));
  // SNI: name-based virtual hosts (every cloud provider) choose their certificate by it; an IP
  // address is never sent as a server name.
  beast::error_code not_ip;
  asio::ip::make_address(url.host, not_ip);
  if (not_ip && SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str()) != 1) {
    return fail("setting the TLS server name");
  }
  beast::get_lowest_layer(stream).expires_after(options.timeout);
  if (auto cec = run_one(
          ioc, [&](auto h) { beast::get_lowest_layer(stream).async_connect(endpoints, h); })) {
    return failed("connecting", cec);
  }
  if (auto hec = run_one(
          ioc, [&](auto h) { stream.async_handshake(asio::ssl::stream_base::client, h); })) {
    return failed("TLS handshake (is the provider's certificate trusted?)", hec);
  }
  return exchange(ioc, stream, request, options);
}

}  // namespace rmm::api::oidc
