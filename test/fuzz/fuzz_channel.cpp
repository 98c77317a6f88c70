// libFuzzer entry point for channel/select op programs (channel_program.hpp). Built only with
// -DGORUN_FUZZ=ON and clang (preset `fuzz`); docs/design/channel.md, "Fuzzing", says how to run
// it. The unit test fuzz_channel_test replays its corpus with the same interpreter.
#include "channel_program.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz_channel::run_input(data, size);
    return 0;
}
