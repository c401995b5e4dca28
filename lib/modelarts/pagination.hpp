// Following a ModelArts list endpoint to its end, collecting every item exactly once.
// Pure: the caller fetches the pages; this decides which offset comes next and which
// items of a page are new.
//
// Why this is not a simple loop: every list page documents `offset` as the "start page"
// without saying whether it counts pages (offset k = items k*limit ..) or records
// (offset k = items k ..). A client that guesses wrong either skips items or never ends.
// So the reading is detected from the first two pages:
//   - page 0 is fetched at offset 0, page 1 at offset 1;
//   - under the record reading page 1 is page 0 moved by one item; under the page
//     reading it starts after page 0's last item. Items inserted or removed between the
//     requests move both by as many places, so the nearer of the two shapes wins (with
//     no common item at all: pages). A later page that looks like its predecessor moved
//     by one record switches to the record reading;
//   - with limit 1 both readings coincide.
// Afterwards offsets advance by one (page reading) or by the number of items received
// (record reading). Overlapping pages cost requests, never correctness; only a list that
// changes by half a page or more between two consecutive requests can fool the
// detection.
//
// It ends when, in this order:
//   - a page is empty;
//   - the documented total is reached (distinct items collected >= total);
//   - a page after the second repeats the previous page's items (a server that ignores
//     offset, or repeats its last page past the end). The second page may legitimately
//     repeat the first (record offsets, one item inserted at the head meanwhile), so it
//     only counts as a record-offset shape;
//   - three pages in a row bring no item not seen before (a single such page is normal:
//     record offsets on a list that gained an item at the head between two requests);
//   - `max_pages` pages were fetched: the last resort, reported as `capped()`.
// Items are identified by their id (task_id, sample_id, dataset_id); duplicates across
// pages are dropped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace labelwatch::modelarts {

enum class offset_reading : std::uint8_t {
  undetermined,  // fewer than two pages seen
  pages,         // offset counts pages
  records,       // offset counts records
  either,        // limit 1: both readings agree
};

std::string_view to_string(offset_reading r) noexcept;

class pagination {
 public:
  static constexpr std::uint32_t k_default_max_pages = 10000;

  // `limit` >= 1 is the page size sent with every request.
  explicit pagination(std::uint32_t limit, std::uint32_t max_pages = k_default_max_pages);

  std::uint32_t limit() const noexcept { return limit_; }
  // The offset to request next; meaningful while !done().
  std::uint64_t next_offset() const noexcept { return next_offset_; }

  // Feeds the ids of the page fetched at next_offset(), in the order the server sent
  // them, with the page's documented total when it had one. Returns, for each id, whether
  // it is new (the caller keeps exactly those items). Must not be called once done().
  std::vector<bool> on_page(const std::vector<std::string_view>& ids,
                            std::optional<std::int64_t> total);

  bool done() const noexcept { return done_; }
  // Ended by max_pages rather than by one of the natural ends.
  bool capped() const noexcept { return capped_; }
  offset_reading reading() const noexcept { return reading_; }
  std::uint32_t pages_fetched() const noexcept { return pages_; }
  std::size_t items_collected() const noexcept { return seen_.size(); }

 private:
  std::uint32_t limit_;
  std::uint32_t max_pages_;
  std::uint64_t next_offset_ = 0;
  std::uint32_t pages_ = 0;
  std::uint32_t pages_without_new_ = 0;
  static constexpr std::uint32_t k_max_pages_without_new = 3;
  offset_reading reading_ = offset_reading::undetermined;
  std::vector<std::string> previous_page_;  // ids of the page before, for shift detection
  std::unordered_set<std::string> seen_;
  bool done_ = false;
  bool capped_ = false;
};

}  // namespace labelwatch::modelarts
