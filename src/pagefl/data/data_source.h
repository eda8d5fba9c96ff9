// Loads the configured dataset as it comes, before partitioning: a pool of samples to spread over
// clients (its labels; its samples are read when asked for), or natural per-client groups, plus
// the server's test set.
#pragma once

#include <string>
#include <vector>

#include "pagefl/core/config.h"
#include "pagefl/core/rng.h"
#include "pagefl/data/dataset.h"
#include "pagefl/data/sample_pool.h"

namespace pagefl {

struct NaturalClient {
  std::string name;
  Dataset local;  // all the client's data, or its train data when `test` is given
  Dataset test;   // explicit local test data (LEAF); empty: split `local`
};

struct SourceData {
  SamplePool pool;                      // samples to partition (empty for natural-only sources)
  std::vector<NaturalClient> natural;   // the source's own clients (LEAF users, synthetic clients)
  Dataset server_test;
  std::int64_t num_classes = 0;
};

SourceData loadSource(const Config& config, const RngStreams& streams);

// Standardises images (pixels in [0, 1], as the image readers return them) with the published
// per-channel statistics of image source `source`, exactly as loadSource does; data of other
// sources are returned unchanged. Throws when the images' channels do not fit the source.
Dataset standardiseImages(Dataset images, const std::string& source);

// The directory a source reads when data.path is empty.
std::string defaultDataPath(const std::string& source);

}  // namespace pagefl
