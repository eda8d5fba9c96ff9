// Test entry point: the same kernel set-up as the pagefl program, so tests run at its speed.
#include <gtest/gtest.h>

#include "pagefl/core/runtime.h"

int main(int argc, char** argv) {
  pagefl::reexecWithBetterBlasCore(argv);
  pagefl::configureSingleThreadedKernels();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
