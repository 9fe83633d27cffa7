#include "liveorigin/core/wait_list.h"

#include <gtest/gtest.h>

namespace liveorigin::core {
namespace {

TEST(WaitListTest, TakeHandsOverOneKeysWaitersInArrivalOrder) {
  WaitList list;
  std::vector<int> order;
  list.Add("v", 1, [&] { order.push_back(1); });
  const uint64_t removed = list.Add("v", 1, [&] { order.push_back(99); });
  list.Add("v", 1, [&] { order.push_back(2); });
  list.Add("v", 2, [&] { order.push_back(3); });
  list.Add("a", 1, [&] { order.push_back(4); });
  EXPECT_EQ(list.size(), 5u);
  list.Remove("v", 1, removed);
  list.Remove("v", 1, 12345);  // unknown id: nothing happens
  EXPECT_EQ(list.size(), 4u);
  auto woken = list.Take("v", 1);
  ASSERT_EQ(woken.size(), 2u);
  for (auto& w : woken) w();
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_EQ(list.size(), 2u);
  EXPECT_TRUE(list.Take("v", 1).empty()) << "waiters are one-shot";
  EXPECT_EQ(list.Take("v", 2).size(), 1u);
  EXPECT_EQ(list.Take("a", 1).size(), 1u);
  EXPECT_EQ(list.size(), 0u);
}

}  // namespace
}  // namespace liveorigin::core
