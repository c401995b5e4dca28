// Beast <-> observe::http_endpoints adapter.
#include "observe/http_handler.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

namespace labelwatch::observe {

http_request to_observe_request(const net::http_request& req) {
  namespace http = boost::beast::http;
  http_request r;
  r.method = req.method_string();
  r.target = req.target();
  if (auto it = req.find(http::field::accept_encoding); it != req.end())
    r.accept_encoding = it->value();
  if (auto it = req.find(http::field::authorization); it != req.end())
    r.authorization = it->value();
  return r;
}

net::http_response to_beast_response(const http_response& r, unsigned version, bool keep_alive) {
  net::http_response res{static_cast<boost::beast::http::status>(r.status), version};
  for (const auto& [name, value] : r.headers) res.set(name, value);
  res.body() = r.body;
  res.keep_alive(keep_alive);
  // HEAD: announce the length of the body GET would have sent, send none.
  res.content_length(r.content_length);
  return res;
}

net::handler make_http_handler(const http_endpoints& endpoints) {
  return [&endpoints](const net::http_request& req,
                      const net::peer_info&) -> net::awaitable<net::reply> {
    const auto answer = endpoints.handle(to_observe_request(req));
    net::reply rep;
    rep.response = to_beast_response(answer, req.version(), req.keep_alive());
    co_return rep;
  };
}

}  // namespace labelwatch::observe
