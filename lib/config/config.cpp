// Names of the configuration enums, as written in the TOML file.
#include "config/config.hpp"

#include <array>
#include <utility>

namespace labelwatch::config {
namespace {

constexpr std::array<std::pair<acceptance_action, std::string_view>, 5> k_actions{{
    {acceptance_action::pass_all, "pass_all"},
    {acceptance_action::reject_all, "reject_all"},
    {acceptance_action::cancel, "cancel"},
    {acceptance_action::pass_single_and_unprocessed, "pass_single_and_unprocessed"},
    {acceptance_action::pass_single, "pass_single"},
}};

}  // namespace

std::string_view to_string(auth_method m) noexcept {
  switch (m) {
    case auth_method::aksk: return "aksk";
    case auth_method::token: return "token";
    case auth_method::none: return "none";
  }
  return "unknown";
}

std::string_view to_string(acceptance_mode m) noexcept {
  switch (m) {
    case acceptance_mode::dry_run: return "dry-run";
    case acceptance_mode::enforce: return "enforce";
  }
  return "unknown";
}

std::string_view to_string(acceptance_action a) noexcept {
  for (const auto& [action, name] : k_actions)
    if (action == a) return name;
  return "unknown";
}

std::optional<acceptance_action> parse_acceptance_action(std::string_view name) noexcept {
  for (const auto& [action, name_of] : k_actions)
    if (name_of == name) return action;
  return std::nullopt;
}

}  // namespace labelwatch::config
