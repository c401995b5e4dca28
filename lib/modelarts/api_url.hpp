// The request targets (path and query) of the ModelArts v2 operations labelwatch uses,
// and of the IAM token request. Pure (Boost.URL).
//
// Every id is percent-encoded as one path segment with the strict rule the signer uses
// (only A-Z a-z 0-9 - _ . ~ stay as they are), so the path on the wire and the signed
// canonical URI agree byte for byte (apart from the signer's trailing '/'), and an id can
// never add a segment ("a/b" becomes "a%2Fb"). Query values are encoded the same way.
#pragma once

#include <boost/system/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace labelwatch::modelarts {

struct request_target {
  std::string path;   // encoded, begins with '/'
  std::string query;  // encoded "k=v&k=v" without '?', parameters in the order added
  // "path?query", or the path alone.
  std::string target() const { return query.empty() ? path : path + "?" + query; }
};

using query_params = std::vector<std::pair<std::string, std::string>>;

// Strict percent-encoding of one path segment or query component.
std::string encode_component(std::string_view s);

// Builds "{base_path}/v2/{project_id}/..." targets. The errors name the empty id
// ("dataset_id is empty").
class api_url {
 public:
  // `base_path`: the endpoint's path prefix ("" normally; see net/origin.hpp).
  api_url(std::string base_path, std::string project_id);

  using result = boost::system::result<request_target, std::string>;

  result auto_task(std::string_view dataset_id, std::string_view task_id) const;
  result auto_task_list(std::string_view dataset_id, const query_params& query) const;
  result workforce_task(std::string_view dataset_id, std::string_view task_id,
                        const query_params& query) const;
  result workforce_task_list(std::string_view dataset_id, const query_params& query) const;
  result sample(std::string_view dataset_id, std::string_view sample_id) const;
  result sample_list(std::string_view dataset_id, const query_params& query) const;
  result dataset_list(const query_params& query) const;
  result acceptance_status(std::string_view dataset_id, std::string_view task_id,
                           std::string_view locale) const;

 private:
  result build(std::initializer_list<std::pair<std::string_view, std::string_view>> segments,
               const query_params& query) const;

  std::string base_path_;
  std::string project_id_;
};

// POST {iam base path}/v3/auth/tokens?nocatalog=true (the catalog is large and unused).
request_target iam_token_target(std::string_view base_path);

}  // namespace labelwatch::modelarts
