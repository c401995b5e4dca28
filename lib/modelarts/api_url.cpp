// Request targets of the ModelArts operations (see api_url.hpp).
#include "modelarts/api_url.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <boost/url/url.hpp>

namespace labelwatch::modelarts {

std::string encode_component(std::string_view s) {
  return boost::urls::encode(s, boost::urls::unreserved_chars);
}

api_url::api_url(std::string base_path, std::string project_id)
    : base_path_(std::move(base_path)), project_id_(std::move(project_id)) {}

// Each segment is (value, name): a non-empty name marks a caller-supplied id that must
// not be empty; literal segments have no name.
api_url::result api_url::build(
    std::initializer_list<std::pair<std::string_view, std::string_view>> segments,
    const query_params& query) const {
  boost::urls::url u;
  u.set_path_absolute(true);
  if (!base_path_.empty()) u.set_encoded_path(base_path_);
  auto segs = u.encoded_segments();
  for (const auto& [value, name] : segments) {
    if (!name.empty() && value.empty())
      return {boost::system::in_place_error, std::string(name) + " is empty"};
    segs.push_back(encode_component(value));
  }
  auto params = u.encoded_params();
  for (const auto& [k, v] : query) params.append({encode_component(k), encode_component(v)});
  return request_target{std::string(u.encoded_path()), std::string(u.encoded_query())};
}

api_url::result api_url::auto_task(std::string_view dataset_id, std::string_view task_id) const {
  return build({{"v2", ""},
                {project_id_, "project_id"},
                {"datasets", ""},
                {dataset_id, "dataset_id"},
                {"tasks", ""},
                {task_id, "task_id"}},
               {});
}

api_url::result api_url::auto_task_list(std::string_view dataset_id,
                                        const query_params& query) const {
  return build({{"v2", ""},
                {project_id_, "project_id"},
                {"datasets", ""},
                {dataset_id, "dataset_id"},
                {"tasks", ""}},
               query);
}

api_url::result api_url::workforce_task(std::string_view dataset_id, std::string_view task_id,
                                        const query_params& query) const {
  return build({{"v2", ""},
                {project_id_, "project_id"},
                {"datasets", ""},
                {dataset_id, "dataset_id"},
                {"workforce-tasks", ""},
                {task_id, "task_id"}},
               query);
}

api_url::result api_url::workforce_task_list(std::string_view dataset_id,
                                             const query_params& query) const {
  return build({{"v2", ""},
                {project_id_, "project_id"},
                {"datasets", ""},
                {dataset_id, "dataset_id"},
                {"workforce-tasks", ""}},
               query);
}

api_url::result api_url::sample(std::string_view dataset_id, std::string_view sample_id) const {
  return build({{"v2", ""},
                {project_id_, "project_id"},
                {"datasets", ""},
                {dataset_id, "dataset_id"},
                {"auto-annotations", ""},
                {"samples", ""},
                {sample_id, "sample_id"}},
               {});
}

api_url::result api_url::sample_list(std::string_view dataset_id, const query_params& query) const {
  return build({{"v2", ""},
                {project_id_, "project_id"},
                {"datasets", ""},
                {dataset_id, "dataset_id"},
                {"auto-annotations", ""},
                {"samples", ""}},
               query);
}

api_url::result api_url::dataset_list(const query_params& query) const {
  return build({{"v2", ""}, {project_id_, "project_id"}, {"datasets", ""}}, query);
}

api_url::result api_url::acceptance_status(std::string_view dataset_id, std::string_view task_id,
                                           std::string_view locale) const {
  return build({{"v2", ""},
                {project_id_, "project_id"},
                {"datasets", ""},
                {dataset_id, "dataset_id"},
                {"workforce-tasks", ""},
                {task_id, "task_id"},
                {"acceptance", ""},
                {"status", ""}},
               {{"locale", std::string(locale)}});
}

request_target iam_token_target(std::string_view base_path) {
  return {std::string(base_path) + "/v3/auth/tokens", "nocatalog=true"};
}

}  // namespace labelwatch::modelarts
