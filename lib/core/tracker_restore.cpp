// restore_snapshot(): the one place the tracker needs the decoder, kept apart so the
// pure tracker links without it.
#include "core/tracker.hpp"
#include "modelarts/decode.hpp"

namespace labelwatch {

std::optional<std::string> restore_snapshot(tracked_task& state) {
  state.snapshot = std::monostate{};
  if (state.snapshot_json.empty()) return std::nullopt;
  if (state.key.kind == task_kind::auto_labeling) {
    auto r = modelarts::decode_auto_task(state.snapshot_json);
    if (!r) return r.error().message();
    state.snapshot = std::move(*r);
  } else {
    auto r = modelarts::decode_workforce_task(state.snapshot_json);
    if (!r) return r.error().message();
    state.snapshot = std::move(*r);
  }
  return std::nullopt;
}

}  // namespace labelwatch
