// The CIFAR-10 and CIFAR-100 binary readers.
#include "fuzz_support.h"
#include "pagefl/data/cifar_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = pagefl::fuzz::asFile(data, size, ".bin");
  for (auto variant : {pagefl::CifarVariant::Cifar10, pagefl::CifarVariant::Cifar100})
    pagefl::fuzz::refusedOnlyWithErrors([&] { pagefl::readCifarBinary({path}, variant); });
  return 0;
}
