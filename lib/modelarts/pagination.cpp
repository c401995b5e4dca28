// Offset-reading detection and termination for list endpoints (see pagination.hpp).
#include "modelarts/pagination.hpp"

#include <algorithm>
#include <unordered_map>

namespace labelwatch::modelarts {
namespace {

// Whether `page` looks like `previous` advanced by about one record rather than by about
// one page. The shift is measured at the first item of `page` that `previous` also holds
// (items inserted or removed between the two requests move it by as many places), and
// the reading whose expected shift (1 or the page size) is nearer wins. No common item
// means the page reading.
bool looks_like_record_offsets(const std::vector<std::string>& previous,
                               const std::vector<std::string_view>& page) {
  if (previous.size() < 2) return false;
  std::unordered_map<std::string_view, std::size_t> where;
  for (std::size_t i = 0; i < previous.size(); ++i) where.emplace(previous[i], i);
  for (std::size_t a = 0; a < page.size(); ++a) {
    const auto it = where.find(page[a]);
    if (it == where.end()) continue;
    const auto shift = static_cast<long long>(it->second) - static_cast<long long>(a);
    const auto page_size = static_cast<long long>(previous.size());
    return 2 * shift < page_size + 1;  // |shift - 1| < |shift - page_size|
  }
  return false;
}

}  // namespace

std::string_view to_string(offset_reading r) noexcept {
  switch (r) {
    case offset_reading::undetermined:
      return "undetermined";
    case offset_reading::pages:
      return "pages";
    case offset_reading::records:
      return "records";
    case offset_reading::either:
      return "either";
  }
  return "undetermined";
}

pagination::pagination(std::uint32_t limit, std::uint32_t max_pages)
    : limit_(std::max<std::uint32_t>(limit, 1)), max_pages_(std::max<std::uint32_t>(max_pages, 1)) {
  if (limit_ == 1) reading_ = offset_reading::either;
}

std::vector<bool> pagination::on_page(const std::vector<std::string_view>& ids,
                                      std::optional<std::int64_t> total) {
  std::vector<bool> fresh(ids.size(), false);
  if (done_) return fresh;
  ++pages_;
  std::size_t new_items = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    fresh[i] = seen_.emplace(ids[i]).second;
    if (fresh[i]) ++new_items;
  }

  const bool repeated = ids.size() == previous_page_.size() &&
                        std::equal(ids.begin(), ids.end(), previous_page_.begin());
  // A page of known items that is not a repeat is normal when the list shifted between
  // requests (record offsets and an insertion at the head); several in a row are not.
  pages_without_new_ = new_items == 0 ? pages_without_new_ + 1 : 0;
  // The second page may repeat the first without the server ignoring offset: record
  // offsets on a list that gained one item at the head. From the third page on, a repeat
  // is the end (or a server that ignores offset).
  if (ids.empty() || (pages_ > 2 && repeated) || pages_without_new_ >= k_max_pages_without_new ||
      (total && *total >= 0 && seen_.size() >= static_cast<std::uint64_t>(*total))) {
    done_ = true;
    return fresh;
  }
  if (pages_ >= max_pages_) {
    done_ = capped_ = true;
    return fresh;
  }

  const std::uint64_t fetched_at = next_offset_;
  switch (reading_) {
    case offset_reading::either:
      next_offset_ = fetched_at + 1;
      break;
    case offset_reading::undetermined:
    case offset_reading::pages:
      if (pages_ == 1) {
        next_offset_ = 1;
      } else if (looks_like_record_offsets(previous_page_, ids)) {
        // On the second page this is the detection; later it corrects a detection that
        // a list changing between the first two requests fooled.
        reading_ = offset_reading::records;
        next_offset_ = fetched_at + ids.size();
      } else {
        reading_ = offset_reading::pages;
        next_offset_ = fetched_at + 1;
      }
      break;
    case offset_reading::records:
      next_offset_ = fetched_at + ids.size();
      break;
  }
  previous_page_.assign(ids.begin(), ids.end());
  return fresh;
}

}  // namespace labelwatch::modelarts
