// Pagination must collect every item exactly once and terminate under both readings of
// `offset` ("start page"): a fake server implements each reading (and a few hostile
// variants) and the loop below drives `pagination` exactly as the API client does.
#include "modelarts/pagination.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

using namespace labelwatch::modelarts;

namespace {

enum class server_mode { pages, records, ignores_offset, repeats_last_page };

struct fake_list {
  std::vector<std::string> items;
  server_mode mode = server_mode::pages;
  bool send_total = true;
  std::optional<std::uint32_t> server_max_limit;       // a server that caps `limit` silently
  std::function<void(fake_list&, int)> between_pages;  // mutate the list before request n
  int requests = 0;

  std::vector<std::string> page(std::uint64_t offset, std::uint32_t limit) {
    if (between_pages) between_pages(*this, requests);
    ++requests;
    if (server_max_limit) limit = std::min(limit, *server_max_limit);
    std::uint64_t start = 0;
    switch (mode) {
      case server_mode::pages:
        start = offset * limit;
        break;
      case server_mode::records:
        start = offset;
        break;
      case server_mode::ignores_offset:
        start = 0;
        break;
      case server_mode::repeats_last_page:
        start = std::min<std::uint64_t>(offset * limit,
                                        items.empty() ? 0 : (items.size() - 1) / limit * limit);
        break;
    }
    std::vector<std::string> out;
    for (auto i = start; i < items.size() && out.size() < limit; ++i) out.push_back(items[i]);
    return out;
  }
};

struct run_result {
  std::vector<std::string> collected;
  int requests = 0;
  bool capped = false;
  offset_reading reading = offset_reading::undetermined;
};

run_result drive(fake_list& server, std::uint32_t limit, std::uint32_t max_pages = 10000) {
  pagination p(limit, max_pages);
  run_result r;
  while (!p.done()) {
    const auto items = server.page(p.next_offset(), limit);
    std::vector<std::string_view> ids(items.begin(), items.end());
    std::optional<std::int64_t> total;
    if (server.send_total) total = static_cast<std::int64_t>(server.items.size());
    const auto fresh = p.on_page(ids, total);
    for (std::size_t i = 0; i < items.size(); ++i)
      if (fresh[i]) r.collected.push_back(items[i]);
  }
  r.requests = server.requests;
  r.capped = p.capped();
  r.reading = p.reading();
  return r;
}

std::vector<std::string> make_items(std::size_t n) {
  std::vector<std::string> v;
  for (std::size_t i = 0; i < n; ++i) v.push_back("task-" + std::to_string(i));
  return v;
}

void expect_exactly_once(const std::vector<std::string>& expected,
                         const std::vector<std::string>& got) {
  EXPECT_EQ(got.size(), expected.size());
  std::set<std::string> a(expected.begin(), expected.end()), b(got.begin(), got.end());
  EXPECT_EQ(a, b);
  EXPECT_EQ(b.size(), got.size()) << "duplicates collected";
}

}  // namespace

// The matrix: both readings x with and without a total x sizes around page boundaries x
// page sizes, including limit 1 where the readings coincide.
TEST(pagination, every_item_exactly_once_under_both_readings) {
  for (auto mode : {server_mode::pages, server_mode::records}) {
    for (bool total : {true, false}) {
      for (std::size_t n : {0u, 1u, 2u, 9u, 10u, 11u, 20u, 99u, 100u, 101u, 250u, 1000u}) {
        for (std::uint32_t limit : {1u, 2u, 3u, 10u, 100u}) {
          fake_list server{make_items(n), mode, total};
          const auto r = drive(server, limit);
          SCOPED_TRACE(testing::Message() << "mode=" << static_cast<int>(mode) << " total=" << total
                                          << " n=" << n << " limit=" << limit);
          expect_exactly_once(server.items, r.collected);
          EXPECT_FALSE(r.capped);
          // Bounded cost: at most the pages needed plus the detection page and one empty
          // or repeated page at the end.
          const auto pages_needed = (n + limit - 1) / limit;
          EXPECT_LE(static_cast<std::size_t>(r.requests), pages_needed + 2);
        }
      }
    }
  }
}

TEST(pagination, detects_the_reading_from_the_first_two_pages) {
  fake_list pages{make_items(50), server_mode::pages, true};
  EXPECT_EQ(drive(pages, 10).reading, offset_reading::pages);
  fake_list records{make_items(50), server_mode::records, true};
  EXPECT_EQ(drive(records, 10).reading, offset_reading::records);
  fake_list single{make_items(5), server_mode::records, true};
  EXPECT_EQ(drive(single, 1).reading, offset_reading::either);
}

TEST(pagination, page_reading_walks_offsets_0_1_2) {
  pagination p(10);
  EXPECT_EQ(p.next_offset(), 0u);
  std::vector<std::string> a, b;
  for (int i = 0; i < 10; ++i) a.push_back("a" + std::to_string(i));
  for (int i = 0; i < 10; ++i) b.push_back("b" + std::to_string(i));
  p.on_page(std::vector<std::string_view>(a.begin(), a.end()), std::nullopt);
  EXPECT_EQ(p.next_offset(), 1u);
  p.on_page(std::vector<std::string_view>(b.begin(), b.end()), std::nullopt);
  EXPECT_EQ(p.reading(), offset_reading::pages);
  EXPECT_EQ(p.next_offset(), 2u);
}

TEST(pagination, record_reading_continues_after_the_records_covered) {
  pagination p(3);
  std::vector<std::string> p0{"x0", "x1", "x2"}, p1{"x1", "x2", "x3"}, p2{"x4", "x5", "x6"};
  p.on_page(std::vector<std::string_view>(p0.begin(), p0.end()), 10);
  EXPECT_EQ(p.next_offset(), 1u);
  const auto fresh = p.on_page(std::vector<std::string_view>(p1.begin(), p1.end()), 10);
  EXPECT_EQ(fresh, (std::vector<bool>{false, false, true}));
  EXPECT_EQ(p.reading(), offset_reading::records);
  EXPECT_EQ(p.next_offset(), 4u);
  p.on_page(std::vector<std::string_view>(p2.begin(), p2.end()), 10);
  EXPECT_EQ(p.next_offset(), 7u);
}

TEST(pagination, ends_when_the_server_ignores_offset) {
  fake_list server{make_items(30), server_mode::ignores_offset, false};
  const auto r = drive(server, 10);
  EXPECT_EQ(r.collected.size(), 10u);  // all the server will ever show
  EXPECT_EQ(r.requests, 3);
  EXPECT_FALSE(r.capped);
}

TEST(pagination, ends_when_the_server_repeats_its_last_page) {
  for (std::size_t n : {25u, 30u}) {
    fake_list server{make_items(n), server_mode::repeats_last_page, false};
    const auto r = drive(server, 10);
    expect_exactly_once(server.items, r.collected);
    EXPECT_LE(r.requests, 5);
  }
}

TEST(pagination, a_server_capping_limit_below_the_request) {
  for (auto mode : {server_mode::pages, server_mode::records}) {
    for (bool total : {true, false}) {
      fake_list server{make_items(95), mode, total, 10};
      const auto r = drive(server, 100);
      expect_exactly_once(server.items, r.collected);
      EXPECT_FALSE(r.capped);
    }
  }
}

TEST(pagination, a_total_smaller_than_the_list_stops_at_the_total) {
  fake_list server{make_items(40), server_mode::pages, false};
  pagination p(10);
  std::size_t got = 0;
  while (!p.done()) {
    const auto items = server.page(p.next_offset(), 10);
    std::vector<std::string_view> ids(items.begin(), items.end());
    for (bool f : p.on_page(ids, 20)) got += f;
  }
  EXPECT_EQ(got, 20u);
}

TEST(pagination, hard_cap_is_the_last_resort) {
  // A hostile server: every page has new ids, forever.
  pagination p(10, 50);
  int n = 0;
  while (!p.done()) {
    std::vector<std::string> items;
    for (int i = 0; i < 10; ++i) items.push_back(std::to_string(n++));
    p.on_page(std::vector<std::string_view>(items.begin(), items.end()), std::nullopt);
  }
  EXPECT_TRUE(p.capped());
  EXPECT_EQ(p.pages_fetched(), 50u);
}

// A list that changes while it is being read (new tasks appear at the head, as a
// create_time-descending list does): no item present throughout may be lost, nothing is
// collected twice, and the walk ends.
TEST(pagination, insertions_at_the_head_lose_nothing_that_was_there_throughout) {
  for (auto mode : {server_mode::pages, server_mode::records}) {
    for (int inserted_per_request : {1, 2, 3}) {
      fake_list server{make_items(95), mode, true};
      const auto original = server.items;
      int counter = 0;
      server.between_pages = [&](fake_list& s, int request) {
        if (request == 0) return;
        for (int i = 0; i < inserted_per_request; ++i)
          s.items.insert(s.items.begin(), "new-" + std::to_string(counter++));
      };
      const auto r = drive(server, 10);
      SCOPED_TRACE(testing::Message()
                   << "mode=" << static_cast<int>(mode) << " inserted=" << inserted_per_request);
      std::set<std::string> got(r.collected.begin(), r.collected.end());
      EXPECT_EQ(got.size(), r.collected.size());
      for (const auto& id : original) EXPECT_TRUE(got.count(id)) << id;
      EXPECT_FALSE(r.capped);
    }
  }
}

TEST(pagination, no_calls_after_done_change_anything) {
  pagination p(10);
  p.on_page({}, 0);
  ASSERT_TRUE(p.done());
  std::vector<std::string> items{"a"};
  const auto fresh = p.on_page(std::vector<std::string_view>(items.begin(), items.end()), 5);
  EXPECT_EQ(fresh, std::vector<bool>{false});
  EXPECT_EQ(p.items_collected(), 0u);
}
