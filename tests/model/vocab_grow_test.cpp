// grow_vocabulary: the grown model computes the same hidden states and the same logits for the old
// ids; the new rows of the embedding, the head and MTP heads are the mean of the old rows.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "model/vocab_grow.hpp"
#include "model_test_util.hpp"

namespace autothink::model {
namespace {

TEST(vocab_grow, old_ids_keep_their_logits_and_new_rows_are_the_mean) {
  for (bool tied : {false, true}) {
    torch::manual_seed(1);
    Qwen2Model source(testing::small_config(tied, tied ? 0 : 1));
    source.eval();
    auto grown = grow_vocabulary(source, 102);
    grown->eval();
    EXPECT_EQ(grown->config().vocab_size, 102);
    torch::NoGradGuard no_grad;
    auto ids = torch::tensor({{3, 17, 42, 8, 95, 0}}, torch::kLong);
    auto h_old = source.forward_hidden(ids), h_new = grown->forward_hidden(ids);
    EXPECT_TRUE(torch::equal(h_old, h_new)) << "tied=" << tied;
    auto l_old = source.logits(h_old), l_new = grown->logits(h_new);
    // Same rows; a wider matmul may round differently in the last bit.
    EXPECT_TRUE(torch::allclose(l_old, l_new.narrow(-1, 0, 96), 0, 1e-5)) << "tied=" << tied;
    auto mean_embed = source.body->embed_tokens->weight.mean(0);
    for (int64_t id = 96; id < 102; ++id) {
      EXPECT_TRUE(torch::allclose(grown->body->embed_tokens->weight[id], mean_embed)) << id;
      EXPECT_TRUE(torch::allclose(grown->head_weight()[id], source.head_weight().mean(0))) << id;
    }
    if (!tied) {
      EXPECT_EQ(grown->mtp_logits(h_new, ids).size(), 1u);
    }
  }
  Qwen2Model source(testing::small_config());
  EXPECT_THROW(grow_vocabulary(source, 96), Error);
}

}  // namespace
}  // namespace autothink::model
